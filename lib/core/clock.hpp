#pragma once
// Time behind an interface so rate limiting and scheduling are tested without sleeping.
#include <chrono>

namespace mdesync {

using SystemTime = std::chrono::system_clock::time_point;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SystemTime now_utc() const = 0;
  virtual SteadyTime now_steady() const = 0;
  // Waits; a FakeClock just moves on, so retry and quota logic is tested without sleeping.
  virtual void sleep_for(std::chrono::milliseconds d) const = 0;
};

class RealClock final : public Clock {
 public:
  SystemTime now_utc() const override { return std::chrono::system_clock::now(); }
  SteadyTime now_steady() const override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::milliseconds d) const override;
  static const RealClock& instance();
};

// A clock that only moves when told to; both time lines advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start = SystemTime{std::chrono::hours(24 * 365 * 50)})
      : utc_(start), steady_(std::chrono::hours(1)) {}
  SystemTime now_utc() const override { return utc_; }
  SteadyTime now_steady() const override { return steady_; }
  void sleep_for(std::chrono::milliseconds d) const override { advance(d); }
  void advance(std::chrono::nanoseconds d) const {
    utc_ += std::chrono::duration_cast<SystemTime::duration>(d);
    steady_ += std::chrono::duration_cast<SteadyTime::duration>(d);
  }

 private:
  // mutable: sleeping on a const Clock& moves a fake clock on.
  mutable SystemTime utc_;
  mutable SteadyTime steady_;
};

}  // namespace mdesync
