#include "quota.hpp"

#include <algorithm>

namespace mdesync::fakeapi {

SlidingWindowQuota::SlidingWindowQuota(std::vector<WindowLimit> limits) : limits_(std::move(limits)) {}

void SlidingWindowQuota::set_limits(std::vector<WindowLimit> limits) { limits_ = std::move(limits); }

std::size_t SlidingWindowQuota::in_window(SteadyTime now, std::chrono::seconds window) const {
  // An arrival at t occupies its slot while now - t < window.
  const auto from = now - window;
  const auto it = std::upper_bound(admitted_.begin(), admitted_.end(), from);
  return static_cast<std::size_t>(admitted_.end() - it);
}

QuotaDecision SlidingWindowQuota::try_acquire(SteadyTime now) {
  std::chrono::seconds longest{0};
  for (const auto& l : limits_) longest = std::max(longest, l.window);
  while (!admitted_.empty() && admitted_.front() <= now - longest) admitted_.pop_front();

  QuotaDecision d;
  for (const auto& l : limits_) {
    if (l.max_calls == 0) continue;
    const std::size_t n = in_window(now, l.window);
    if (n < l.max_calls) continue;
    // The (n - max + 1)-th oldest arrival in the window must leave before a slot frees.
    const SteadyTime leaving = *(admitted_.end() - static_cast<std::ptrdiff_t>(n) +
                                 static_cast<std::ptrdiff_t>(n - l.max_calls));
    d.retry_after = std::max(d.retry_after, std::chrono::duration_cast<std::chrono::nanoseconds>(leaving + l.window - now));
  }
  if (d.retry_after.count() > 0) return d;
  d.admitted = true;
  admitted_.push_back(now);
  return d;
}

std::int64_t retry_after_seconds(std::chrono::nanoseconds d) {
  const auto s = std::chrono::ceil<std::chrono::seconds>(d).count();
  return std::max<std::int64_t>(s, 1);
}

}  // namespace mdesync::fakeapi
