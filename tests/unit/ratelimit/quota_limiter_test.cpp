// The quota windows, driven by a FakeClock: no sleeping, no timing.
#include "ratelimit/quota_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mdesync::ratelimit {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

constexpr Quota json_quota{30, 1000};
constexpr Quota export_quota{5, 20};

TEST(QuotaLimiter, MarginIsTwoSeconds) { EXPECT_EQ(safety_margin, 2s); }

TEST(QuotaLimiter, EmptyLimiterAdmitsNow) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  EXPECT_EQ(limiter.wait_time(Family::json), 0ms);
  EXPECT_EQ(limiter.wait_time(Family::export_files), 0ms);
}

TEST(QuotaLimiter, ThirtyCallsFillTheMinuteAndTheNextWaitsForTheOldestPlusMargin) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(limiter.wait_time(Family::json), 0ms) << "call " << i;
    limiter.record(Family::json);
    clock.advance(1s);
  }
  // The oldest call was sent 30 s ago; it stops counting 60 s + margin after it was sent.
  EXPECT_EQ(limiter.wait_time(Family::json), 32s);
  clock.advance(32s - 1ms);
  EXPECT_EQ(limiter.wait_time(Family::json), 1ms);
  clock.advance(1ms);
  EXPECT_EQ(limiter.wait_time(Family::json), 0ms);
  limiter.record(Family::json);
  // The second-oldest leaves one second after the oldest did.
  EXPECT_EQ(limiter.wait_time(Family::json), 1s);
}

TEST(QuotaLimiter, BurstAtOneInstantWaitsAFullWindowPlusMargin) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  for (int i = 0; i < 30; ++i) limiter.record(Family::json);
  EXPECT_EQ(limiter.wait_time(Family::json), 62s);
}

TEST(QuotaLimiter, HourWindowBindsAcrossMinutes) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  const SteadyTime first = clock.now_steady();
  int admitted = 0;
  while (admitted < 1000) {
    const milliseconds wait = limiter.reserve(Family::json);
    if (wait == 0ms)
      ++admitted;
    else
      clock.advance(wait);
  }
  // 1000 calls took 33 full minutes plus 10 calls: the minute window has room,
  // the hour window does not, until the very first call is an hour (+margin) old.
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 20);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::hours(1)), 0);
  const auto expected = std::chrono::ceil<milliseconds>(first + 1h + safety_margin - clock.now_steady());
  EXPECT_GT(expected, 62s);
  EXPECT_EQ(limiter.wait_time(Family::json), expected);
  clock.advance(expected);
  EXPECT_EQ(limiter.wait_time(Family::json), 0ms);
}

TEST(QuotaLimiter, FamiliesAreIndependent) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  for (int i = 0; i < 5; ++i) limiter.record(Family::export_files);
  EXPECT_EQ(limiter.wait_time(Family::export_files), 62s);
  EXPECT_EQ(limiter.wait_time(Family::json), 0ms);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 30);

  for (int i = 0; i < 30; ++i) limiter.record(Family::json);
  EXPECT_EQ(limiter.remaining(Family::export_files, std::chrono::minutes(1)), 0);
  EXPECT_EQ(limiter.remaining(Family::export_files, std::chrono::hours(1)), 15);
}

TEST(QuotaLimiter, ExportHourQuotaOfTwenty) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  int admitted = 0;
  while (admitted < 20) {
    const milliseconds wait = limiter.reserve(Family::export_files);
    if (wait == 0ms)
      ++admitted;
    else
      clock.advance(wait);
  }
  // Four bursts of five, each a minute + margin apart: the first burst frees the hour.
  EXPECT_EQ(limiter.wait_time(Family::export_files), 1h + safety_margin - 3 * 62s);
}

TEST(QuotaLimiter, PauseUntilIsHonoured) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  limiter.pause_until(Family::json, clock.now_steady() + 10s);
  EXPECT_EQ(limiter.wait_time(Family::json), 10s);
  EXPECT_EQ(limiter.reserve(Family::json), 10s);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 30) << "a refused reserve records nothing";
  EXPECT_EQ(limiter.wait_time(Family::export_files), 0ms) << "only the paused family waits";
  clock.advance(4s);
  EXPECT_EQ(limiter.wait_time(Family::json), 6s);
  clock.advance(6s);
  EXPECT_EQ(limiter.reserve(Family::json), 0ms);
}

TEST(QuotaLimiter, ShorterPauseDoesNotCutALongerOneShort) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  limiter.pause_until(Family::json, clock.now_steady() + 60s);
  limiter.pause_until(Family::json, clock.now_steady() + 5s);
  EXPECT_EQ(limiter.wait_time(Family::json), 60s);
}

TEST(QuotaLimiter, WaitIsTheLongerOfPauseAndWindow) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  for (int i = 0; i < 30; ++i) limiter.record(Family::json);
  limiter.pause_until(Family::json, clock.now_steady() + 5s);
  EXPECT_EQ(limiter.wait_time(Family::json), 62s);
  limiter.pause_until(Family::json, clock.now_steady() + 100s);
  EXPECT_EQ(limiter.wait_time(Family::json), 100s);
}

TEST(QuotaLimiter, RecordCountsEvenWhenOverQuota) {
  FakeClock clock;
  QuotaLimiter limiter({2, 1000}, export_quota, clock);
  limiter.record(Family::json);
  limiter.record(Family::json);
  limiter.record(Family::json);  // sent anyway: the server counts it, so must we
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 0);
  clock.advance(1s);
  limiter.record(Family::json);
  // Four calls against a limit of two: room opens only when three have left,
  // and the third was sent at 0 s, one second ago.
  EXPECT_EQ(limiter.wait_time(Family::json), 61s);
}

TEST(QuotaLimiter, RemainingRecoversAsCallsAge) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  for (int i = 0; i < 10; ++i) limiter.record(Family::json);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 20);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::hours(1)), 990);
  clock.advance(62s);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 30);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::hours(1)), 990);
  clock.advance(1h);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::hours(1)), 1000);
}

TEST(QuotaLimiter, RemainingOnlyForItsTwoWindows) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  EXPECT_THROW((void)limiter.remaining(Family::json, std::chrono::seconds(30)), std::invalid_argument);
}

TEST(QuotaLimiter, LimitsBelowOneAreRefused) {
  FakeClock clock;
  EXPECT_THROW(QuotaLimiter({0, 10}, export_quota, clock), std::invalid_argument);
  EXPECT_THROW(QuotaLimiter(json_quota, {5, 0}, clock), std::invalid_argument);
}

TEST(QuotaLimiter, ReportsItsQuotas) {
  FakeClock clock;
  QuotaLimiter limiter(json_quota, export_quota, clock);
  EXPECT_EQ(limiter.quota(Family::json).per_hour, 1000);
  EXPECT_EQ(limiter.quota(Family::export_files).per_minute, 5);
}

TEST(QuotaLimiter, ConcurrentReserveNeverOverAdmits) {
  FakeClock clock;  // never advanced while the threads run: reads only
  QuotaLimiter limiter(json_quota, export_quota, clock);
  std::atomic<int> admitted{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 200; ++i)
        if (limiter.reserve(Family::json) == 0ms) ++admitted;
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 30);
  EXPECT_EQ(limiter.remaining(Family::json, std::chrono::minutes(1)), 0);
}

}  // namespace
}  // namespace mdesync::ratelimit
