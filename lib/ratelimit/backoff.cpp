#include "ratelimit/backoff.hpp"

#include <climits>
#include <stdexcept>

namespace mdesync::ratelimit {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
    : base_(base), cap_(cap), state_(seed) {
  if (base.count() <= 0 || cap < base) throw std::invalid_argument("backoff needs 0 < base <= cap");
}

std::chrono::milliseconds Backoff::ceiling() const {
  // Doubling stops at the cap, so a long outage never overflows.
  std::chrono::milliseconds c = base_;
  for (int i = 0; i < attempts_ && c < cap_; ++i) c *= 2;
  return std::min(c, cap_);
}

std::chrono::milliseconds Backoff::next() {
  const auto bound = static_cast<std::uint64_t>(ceiling().count());
  // Modulo bias is below 2^-40 for any delay in milliseconds we would use.
  const auto delay = static_cast<std::int64_t>(random() % (bound + 1));
  if (attempts_ < INT_MAX) ++attempts_;
  return std::chrono::milliseconds(delay);
}

// splitmix64: tiny, fully specified, identical everywhere (unlike the
// standard distributions, whose output is implementation-defined).
std::uint64_t Backoff::random() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace mdesync::ratelimit
