#pragma once
// COPY text on its way from the parser to PostgreSQL, handed on in pieces of
// about `flush_bytes`: memory stays bounded whatever a page or file holds, and
// PostgreSQL receives large writes (a few per megabyte, not one per record).
// Pure: the sink is whatever writes (a page's or a file's COPY).
//
// Invariant: only whole lines are handed on (the parser appends whole lines);
// a piece is never split.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace mdesync::batch {

inline constexpr std::size_t default_flush_bytes = 1 << 20;

class CopyBatch {
 public:
  using Sink = std::function<void(std::string_view)>;

  explicit CopyBatch(Sink sink, std::size_t flush_bytes = default_flush_bytes)
      : sink_(std::move(sink)), flush_bytes_(flush_bytes) {}

  // Where the parser appends COPY lines.
  std::string& lines() { return lines_; }
  // After the parser appended: hands the lines on once there are enough.
  void maybe_flush() {
    if (lines_.size() >= flush_bytes_) flush();
  }
  // Hands on whatever is there (the end of a page or file).
  void flush() {
    if (lines_.empty()) return;
    sink_(lines_);
    flushed_ += lines_.size();
    lines_.clear();
  }
  // Forgets what was not handed on (the page or file starts again).
  void discard() { lines_.clear(); }
  std::size_t flushed_bytes() const { return flushed_; }

 private:
  Sink sink_;
  std::size_t flush_bytes_;
  std::string lines_;
  std::size_t flushed_ = 0;
};

}  // namespace mdesync::batch
