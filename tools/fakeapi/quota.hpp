#pragma once
// Sliding-window call quotas, as the service enforces them per tenant and endpoint family
// (JSON: 30/minute and 1,000/hour; export: 5/minute and 20/hour). A request is admitted
// when every window holds fewer than its limit of admitted arrivals; rejected requests do
// not occupy a slot. Pure: the caller passes the time, tests use a FakeClock.
#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "core/clock.hpp"

namespace mdesync::fakeapi {

struct WindowLimit {
  std::chrono::seconds window;
  std::uint32_t max_calls;  // 0 disables the window
};

struct QuotaDecision {
  bool admitted = false;
  // When rejected: time until the oldest arrival in the full window leaves it.
  std::chrono::nanoseconds retry_after{0};
};

class SlidingWindowQuota {
 public:
  explicit SlidingWindowQuota(std::vector<WindowLimit> limits = {});

  QuotaDecision try_acquire(SteadyTime now);
  void set_limits(std::vector<WindowLimit> limits);
  const std::vector<WindowLimit>& limits() const { return limits_; }
  // Arrivals admitted within `window` before now.
  std::size_t in_window(SteadyTime now, std::chrono::seconds window) const;

 private:
  std::vector<WindowLimit> limits_;
  std::deque<SteadyTime> admitted_;  // ascending
};

// Retry-After in whole seconds, rounded up, at least 1.
std::int64_t retry_after_seconds(std::chrono::nanoseconds d);

}  // namespace mdesync::fakeapi
