#include "schedule/scheduler.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mdesync::schedule {
namespace {

using namespace std::chrono_literals;
using model::Dataset;
using model::RunMode;
using Result = RunReport::Result;

const Intervals intervals{10min, 24h};
const JobId cpe{"contoso", Dataset::cpe};
const JobId noncpe{"contoso", Dataset::noncpe};

model::SyncState synced_at(SystemTime t) {
  model::SyncState s;
  s.watermark = t;
  s.last_full_at = t;
  return s;
}

RunReport succeeded(const model::SyncState& state) { return {Result::succeeded, Recovery::retry, state, {}}; }
RunReport failed(Recovery r) { return {Result::failed, r, std::nullopt, {}}; }

TEST(Scheduler, ANewJobRunsFullNowPlusItsJitterAndNeverTwiceAtOnce) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  EXPECT_TRUE(s.reconcile({cpe, noncpe}).empty());
  const Plan plan = s.schedule(cpe, {});
  EXPECT_EQ(plan.mode, RunMode::full);
  EXPECT_GE(plan.due, clock.now_utc());
  EXPECT_LT(plan.due, clock.now_utc() + max_jitter(intervals));
  EXPECT_TRUE(s.begin(cpe));
  EXPECT_FALSE(s.begin(cpe)) << "a running job is never started again";
}

TEST(Scheduler, ASucceededRunPlansTheNextIncrementalFromTheStoredTimes) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  s.reconcile({cpe});
  s.schedule(cpe, {});
  ASSERT_TRUE(s.begin(cpe));
  clock.advance(5min);
  const auto next = s.finish(cpe, succeeded(synced_at(clock.now_utc())));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->mode, RunMode::incremental);
  EXPECT_GE(next->due, clock.now_utc() + intervals.incremental);
  EXPECT_LT(next->due, clock.now_utc() + intervals.incremental + max_jitter(intervals));
  EXPECT_EQ(s.state(cpe)->failures, 0);
  EXPECT_EQ(s.state(cpe)->last_success, clock.now_utc());
}

TEST(Scheduler, FailuresRetryWithGrowingJitteredDelaysAndFatalOnesWaitAnInterval) {
  FakeClock clock;
  Scheduler s(clock, intervals, 7);
  s.reconcile({cpe});
  s.schedule(cpe, {});
  for (int n = 1; n <= 6; ++n) {
    ASSERT_TRUE(s.begin(cpe));
    const auto next = s.finish(cpe, failed(Recovery::retry));
    ASSERT_TRUE(next);
    const auto base = retry_delay(n, intervals);
    EXPECT_GE(next->due - clock.now_utc(), base * 8 / 10) << n;
    EXPECT_LE(next->due - clock.now_utc(), base * 12 / 10) << n;
  }
  EXPECT_EQ(s.state(cpe)->failures, 6);
  ASSERT_TRUE(s.begin(cpe));
  const auto fatal = s.finish(cpe, failed(Recovery::fatal));
  EXPECT_GE(fatal->due - clock.now_utc(), intervals.incremental * 8 / 10);
}

TEST(Scheduler, TheJitterSpreadsTenantsThatFailedTogether) {
  FakeClock clock;
  Scheduler s(clock, intervals, 3);
  std::vector<JobId> ids;
  for (int i = 0; i < 20; ++i) ids.push_back({"tenant" + std::to_string(i), Dataset::cpe});
  s.reconcile(ids);
  std::set<SystemTime> dues;
  for (const auto& id : ids) {
    s.schedule(id, {});
    ASSERT_TRUE(s.begin(id));
    dues.insert(s.finish(id, failed(Recovery::reconnect))->due);
  }
  EXPECT_GT(dues.size(), 15u);
}

TEST(Scheduler, AJobHeldByAnotherInstanceIsTriedAgainWithinTheLockRetry) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  s.reconcile({cpe});
  s.schedule(cpe, {});
  ASSERT_TRUE(s.begin(cpe));
  const auto next = s.finish(cpe, {Result::skipped, Recovery::retry, std::nullopt, {}});
  EXPECT_LE(next->due - clock.now_utc(), Scheduler::lock_retry * 12 / 10);
  EXPECT_EQ(s.state(cpe)->last_outcome, "held by another instance");
  EXPECT_EQ(s.state(cpe)->failures, 0);
}

TEST(Scheduler, AReloadAddsAndRetiresJobsAndARunningOneLeavesWhenItEnds) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  s.reconcile({cpe, noncpe});
  s.schedule(cpe, {});
  s.schedule(noncpe, {});
  ASSERT_TRUE(s.begin(cpe));
  const JobId other{"fabrikam", Dataset::cpe};
  const auto gone = s.reconcile({other});
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], noncpe) << "idle: leaves at once";
  ASSERT_NE(s.state(cpe), nullptr) << "running: stays until its run ends";
  EXPECT_FALSE(s.begin(cpe));
  EXPECT_FALSE(s.finish(cpe, succeeded(synced_at(clock.now_utc()))));
  EXPECT_EQ(s.state(cpe), nullptr);
  ASSERT_NE(s.state(other), nullptr);
  EXPECT_TRUE(s.begin(other));
}

TEST(Scheduler, AStalledRunMarksTheJobUntilOneSucceeds) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  s.reconcile({cpe});
  s.schedule(cpe, {});
  ASSERT_TRUE(s.begin(cpe));
  s.finish(cpe, {Result::failed, Recovery::reconnect, std::nullopt, "no progress for 30s while downloading page 3"});
  EXPECT_EQ(s.state(cpe)->stalled, "no progress for 30s while downloading page 3");
  ASSERT_TRUE(s.begin(cpe));
  s.finish(cpe, failed(Recovery::retry));
  EXPECT_TRUE(s.state(cpe)->stalled) << "a plain failure does not clear it";
  ASSERT_TRUE(s.begin(cpe));
  s.finish(cpe, succeeded(synced_at(clock.now_utc())));
  EXPECT_FALSE(s.state(cpe)->stalled);
}

TEST(Scheduler, TheBootstrapRetryDoublesUpToAMinuteWithJitter) {
  FakeClock clock;
  Scheduler s(clock, intervals, 1);
  EXPECT_GE(s.bootstrap_retry(1), 1600ms);
  EXPECT_LE(s.bootstrap_retry(1), 2400ms);
  EXPECT_LE(s.bootstrap_retry(10), Scheduler::max_bootstrap_retry * 12 / 10);
  EXPECT_GE(s.bootstrap_retry(10), Scheduler::max_bootstrap_retry * 8 / 10);
}

}  // namespace
}  // namespace mdesync::schedule
