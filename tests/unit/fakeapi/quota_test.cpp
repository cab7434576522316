// Sliding-window quotas with a fake clock: no sleeping, no timing.
#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "quota.hpp"

namespace mdesync::fakeapi {
namespace {

using std::chrono::seconds;

SlidingWindowQuota api_quota() { return SlidingWindowQuota({{seconds(60), 30}, {seconds(3600), 1000}}); }

TEST(Quota, AdmitsThirtyPerMinuteThenRejectsWithTimeUntilTheOldestLeaves) {
  FakeClock clock;
  auto q = api_quota();
  for (int i = 0; i < 30; ++i) {
    ASSERT_TRUE(q.try_acquire(clock.now_steady()).admitted) << i;
    clock.advance(std::chrono::milliseconds(100));
  }
  // 3 s have passed since the first admission: it leaves the window in 57 s.
  const auto d = q.try_acquire(clock.now_steady());
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after, seconds(57));
  EXPECT_EQ(retry_after_seconds(d.retry_after), 57);
  clock.advance(seconds(56));
  EXPECT_FALSE(q.try_acquire(clock.now_steady()).admitted);
  clock.advance(seconds(1));
  EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
  EXPECT_FALSE(q.try_acquire(clock.now_steady()).admitted) << "only one slot freed";
}

TEST(Quota, RejectedRequestsDoNotTakeASlot) {
  FakeClock clock;
  SlidingWindowQuota q({{seconds(60), 2}});
  EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
  EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(q.try_acquire(clock.now_steady()).admitted);
  clock.advance(seconds(60));
  EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
  EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
}

TEST(Quota, HourWindowLimitsAfterAThousand) {
  FakeClock clock;
  auto q = api_quota();
  const auto first = clock.now_steady();
  int admitted = 0;
  // 25 per minute stays under the minute limit; the hour limit bites at 1000.
  while (admitted < 1000) {
    for (int i = 0; i < 25 && admitted < 1000; ++i, ++admitted) ASSERT_TRUE(q.try_acquire(clock.now_steady()).admitted);
    clock.advance(seconds(61));
  }
  ASSERT_LT(clock.now_steady() - first, seconds(3600));
  const auto d = q.try_acquire(clock.now_steady());
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after, first + seconds(3600) - clock.now_steady());
  EXPECT_EQ(q.in_window(clock.now_steady(), seconds(3600)), 1000u);
}

TEST(Quota, ZeroDisablesAWindow) {
  FakeClock clock;
  SlidingWindowQuota q({{seconds(60), 0}, {seconds(3600), 3}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(q.try_acquire(clock.now_steady()).admitted);
  EXPECT_FALSE(q.try_acquire(clock.now_steady()).admitted);
}

TEST(Quota, RetryAfterRoundsUpToWholeSecondsAtLeastOne) {
  EXPECT_EQ(retry_after_seconds(std::chrono::milliseconds(1)), 1);
  EXPECT_EQ(retry_after_seconds(std::chrono::milliseconds(1001)), 2);
  EXPECT_EQ(retry_after_seconds(seconds(0)), 1);
  EXPECT_EQ(retry_after_seconds(seconds(5)), 5);
}

}  // namespace
}  // namespace mdesync::fakeapi
