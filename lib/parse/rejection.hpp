#pragma once
#include <cstddef>
#include <string>

namespace mdesync::parse {

// A record that was skipped, and why. `index` is the record's position within its
// page (0-based) or, for export files, its line number (1-based).
struct Rejection {
  std::size_t index;
  std::string reason;
};

}  // namespace mdesync::parse
