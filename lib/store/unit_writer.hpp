#pragma once
// Where one unit of work's rows go (a JSON page, an export file): COPY text into
// one transaction that the caller commits in the way its path needs (a page with
// its watermark, a file with its record as staged). Both pull paths write through
// this interface (schedule/unit_pipeline.hpp).
#include <string_view>

namespace mdesync::store {

class UnitWriter {
 public:
  virtual ~UnitWriter() = default;
  // Opens the unit's transaction; anything an earlier attempt wrote is dropped.
  virtual void begin() = 0;
  // COPY text, whole lines. When it throws, the caller abort()s the unit.
  virtual void write(std::string_view copy_text) = 0;
  // Rolls the unit back: nothing of it stays.
  virtual void abort() noexcept = 0;
};

}  // namespace mdesync::store
