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

// Records stored with a value altered to fit (RecordEncoder::alteration()) are
// counted by the encoder; the first this many of a page or file keep their details.
inline constexpr std::size_t max_alteration_details = 20;

}  // namespace mdesync::parse
