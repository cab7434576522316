#pragma once
// Input-derived chunking for the streaming parsers' targets.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mdesync::fuzz {

// Chunk sizes come from the input itself (a hash of it), so every input replays
// with the same splits and the fuzzer varies them by varying the input.
class Splitter {
 public:
  explicit Splitter(std::string_view input) {
    for (const char c : input) state_ = (state_ ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  std::uint64_t next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }
  // Mostly tiny pieces (a split inside every token), now and then a large one.
  std::size_t chunk() {
    const std::uint64_t r = next();
    return (r & 7) == 0 ? 1 + (r >> 8) % 4096 : 1 + (r >> 8) % 7;
  }

 private:
  std::uint64_t state_ = 0xcbf29ce484222325ULL;
};

// Feeds `bytes` to `feed` in the splitter's chunk sizes.
template <typename Feed>
void in_chunks(std::string_view bytes, Splitter& split, Feed feed) {
  while (!bytes.empty()) {
    const std::size_t n = std::min(split.chunk(), bytes.size());
    feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
}

}  // namespace mdesync::fuzz
