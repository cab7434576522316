#include "ratelimit/quota_limiter.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace mdesync::ratelimit {
namespace {

using std::chrono::ceil;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

constexpr std::chrono::seconds minute_window{60};
constexpr std::chrono::seconds hour_window{3600};

void check(Quota q, const char* family) {
  if (q.per_minute < 1 || q.per_hour < 1)
    throw std::invalid_argument(std::string("quota limits must be at least 1 for ") + family);
}

// The first call still counted in a window of `length` ending now. A call sent
// at t stops counting at exactly t + length + margin.
std::deque<SteadyTime>::const_iterator first_counted(const std::deque<SteadyTime>& sent, SteadyTime now,
                                                     std::chrono::seconds length) {
  return std::upper_bound(sent.begin(), sent.end(), now - length - safety_margin);
}

}  // namespace

const char* to_string(Family family) {
  switch (family) {
    case Family::json:
      return "json";
    case Family::export_files:
      return "export";
  }
  return "unknown";
}

QuotaLimiter::QuotaLimiter(Quota json, Quota exports, const Clock& clock) : clock_(clock) {
  check(json, "json");
  check(exports, "export");
  states_[static_cast<std::size_t>(Family::json)].quota = json;
  states_[static_cast<std::size_t>(Family::export_files)].quota = exports;
}

nanoseconds QuotaLimiter::wait_locked(const State& s, SteadyTime now) {
  nanoseconds wait = std::max(nanoseconds::zero(), s.paused_until - now);
  const std::pair<std::chrono::seconds, int> windows[] = {{minute_window, s.quota.per_minute},
                                                          {hour_window, s.quota.per_hour}};
  for (const auto& [length, limit] : windows) {
    const auto first = first_counted(s.sent, now, length);
    const auto counted = s.sent.end() - first;
    if (counted < limit) continue;
    // Room opens when enough of the oldest counted calls have left for the
    // count to drop below the limit: when call number counted - limit leaves.
    const SteadyTime frees_at = *(first + (counted - limit)) + length + safety_margin;
    wait = std::max(wait, nanoseconds(frees_at - now));
  }
  return wait;
}

void QuotaLimiter::forget_old(State& s, SteadyTime now) {
  // The hour window is the longest; anything it no longer counts is history.
  const auto keep = first_counted(s.sent, now, hour_window);
  s.sent.erase(s.sent.begin(), keep);
}

milliseconds QuotaLimiter::wait_time(Family family) const {
  const std::lock_guard lock(mutex_);
  // Rounded up: waiting the returned time must be enough.
  return ceil<milliseconds>(wait_locked(state(family), clock_.now_steady()));
}

void QuotaLimiter::record(Family family) {
  const std::lock_guard lock(mutex_);
  const SteadyTime now = clock_.now_steady();
  State& s = state(family);
  forget_old(s, now);
  s.sent.push_back(now);
}

milliseconds QuotaLimiter::reserve(Family family) {
  const std::lock_guard lock(mutex_);
  const SteadyTime now = clock_.now_steady();
  State& s = state(family);
  forget_old(s, now);
  const auto wait = ceil<milliseconds>(wait_locked(s, now));
  if (wait == milliseconds::zero()) s.sent.push_back(now);
  return wait;
}

void QuotaLimiter::pause_until(Family family, SteadyTime until) {
  const std::lock_guard lock(mutex_);
  State& s = state(family);
  s.paused_until = std::max(s.paused_until, until);
}

int QuotaLimiter::remaining(Family family, std::chrono::seconds window) const {
  const std::lock_guard lock(mutex_);
  const State& s = state(family);
  int limit = 0;
  if (window == minute_window)
    limit = s.quota.per_minute;
  else if (window == hour_window)
    limit = s.quota.per_hour;
  else
    throw std::invalid_argument("remaining: window must be one minute or one hour");
  const auto counted = s.sent.end() - first_counted(s.sent, clock_.now_steady(), window);
  return std::max(0, limit - static_cast<int>(counted));
}

Quota QuotaLimiter::quota(Family family) const {
  const std::lock_guard lock(mutex_);
  return state(family).quota;
}

void QuotaLimiter::set_quotas(Quota json, Quota exports) {
  check(json, "json");
  check(exports, "export");
  const std::lock_guard lock(mutex_);
  state(Family::json).quota = json;
  state(Family::export_files).quota = exports;
}

}  // namespace mdesync::ratelimit
