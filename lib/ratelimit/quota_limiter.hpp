#pragma once
// The API's per-tenant call quotas (per minute and per hour, separately for
// the JSON endpoints and the export endpoints), kept on our side so we never
// earn a 429 in the first place. Pure: time comes from the injected Clock, and
// waiting is the caller's business.
#include <array>
#include <chrono>
#include <deque>
#include <mutex>

#include "core/clock.hpp"

namespace mdesync::ratelimit {

enum class Family { json, export_files };
const char* to_string(Family family);

struct Quota {
  int per_minute;
  int per_hour;
};

// Added to both window lengths. The server counts a call when it arrives, we
// count it when we send it; latency differs from call to call, so two calls
// sent 60.0 s apart can arrive 59.5 s apart and both land in one server-side
// minute. Treating each window as 2 s longer keeps us inside the quota for
// any latency jitter below that, at the price of 2 s per full window.
inline constexpr std::chrono::milliseconds safety_margin{2000};

// Thread-safe. A sliding-window log per family: the send time of every call
// still inside the longest window.
class QuotaLimiter {
 public:
  // Throws std::invalid_argument unless every limit is at least 1.
  QuotaLimiter(Quota json, Quota exports, const Clock& clock);

  // How long until one more call fits in both windows and any pause is over;
  // zero when it fits now.
  std::chrono::milliseconds wait_time(Family family) const;
  // Records a call sent now (whether or not it had to wait: the server counts it).
  void record(Family family);
  // Check and record in one step: records and returns zero when a call fits
  // now, otherwise records nothing and returns the wait. Two threads can
  // therefore never both take the last slot, which wait_time + record could.
  std::chrono::milliseconds reserve(Family family);
  // After a 429: no call of this family before `until` (an earlier pause that
  // ends later is kept).
  void pause_until(Family family, SteadyTime until);
  // Calls left in the window (std::chrono::minutes(1) or hours(1)) right now,
  // for metrics. Throws std::invalid_argument for any other window.
  int remaining(Family family, std::chrono::seconds window) const;
  Quota quota(Family family) const;
  // New limits for the calls to come; the calls already sent still count. (A
  // reloaded config keeps the tenant's limiter: the service's windows do not
  // start over because ours would.) Throws std::invalid_argument like the constructor.
  void set_quotas(Quota json, Quota exports);

 private:
  struct State {
    Quota quota;
    std::deque<SteadyTime> sent;  // ascending; nothing older than the hour window + margin
    SteadyTime paused_until{};
  };

  State& state(Family family) { return states_[static_cast<std::size_t>(family)]; }
  const State& state(Family family) const { return states_[static_cast<std::size_t>(family)]; }
  static std::chrono::nanoseconds wait_locked(const State& s, SteadyTime now);
  static void forget_old(State& s, SteadyTime now);

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::array<State, 2> states_;
};

}  // namespace mdesync::ratelimit
