#pragma once
// Exponential backoff with full jitter: the n-th delay (from 0) is uniform in
// [0, min(cap, base * 2^n)]. Spreading retries over the whole range keeps
// tenants that failed together from retrying together. Not thread-safe: one
// Backoff per retried operation.
#include <chrono>
#include <cstdint>

namespace mdesync::ratelimit {

class Backoff {
 public:
  // Throws std::invalid_argument unless 0 < base <= cap. The same seed gives
  // the same sequence of delays on every platform.
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed);

  // The delay before the next attempt; counts an attempt.
  std::chrono::milliseconds next();
  // After a success: the next delay is drawn from [0, base] again. The random
  // sequence continues; it is not rewound.
  void reset() { attempts_ = 0; }
  int attempts() const { return attempts_; }
  // The upper bound of what next() returns now.
  std::chrono::milliseconds ceiling() const;

 private:
  std::uint64_t random();

  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  std::uint64_t state_;
  int attempts_ = 0;
};

}  // namespace mdesync::ratelimit
