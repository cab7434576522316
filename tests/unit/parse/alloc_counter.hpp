#pragma once
// Counts heap allocations made by this thread while an AllocationScope is alive
// (global operator new is replaced in alloc_counter.cpp for this test binary).
#include <cstddef>

namespace mdesync::parse::testing {

class AllocationScope {
 public:
  AllocationScope();
  ~AllocationScope();
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;
  std::size_t count() const;
};

}  // namespace mdesync::parse::testing
