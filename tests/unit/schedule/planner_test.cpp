#include <gtest/gtest.h>

#include <set>

#include "core/timestamp.hpp"
#include "schedule/planner.hpp"

namespace mdesync::schedule {
namespace {

using namespace std::chrono_literals;
using model::RunMode;

const Intervals hourly_daily{1h, 24h};

SystemTime at(const char* iso) { return parse_iso8601(iso).value(); }

model::SyncState synced(const char* full, const char* incremental = nullptr) {
  model::SyncState s;
  s.watermark = at(full);
  s.last_full_at = at(full);
  if (incremental) s.last_incremental_at = at(incremental);
  return s;
}

TEST(Planner, NeverSyncedMeansAFullSyncNow) {
  const auto now = at("2026-01-01T00:00:00Z");
  const auto plan = next_run({}, hourly_daily, now, 7s);
  EXPECT_EQ(plan.mode, RunMode::full);
  EXPECT_EQ(plan.due, now + 7s);
}

TEST(Planner, IncrementalAnIntervalAfterTheLastSyncOfEitherKind) {
  const auto now = at("2026-01-01T10:10:00Z");
  auto plan = next_run(synced("2026-01-01T10:00:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(plan.mode, RunMode::incremental);
  EXPECT_EQ(plan.due, at("2026-01-01T11:00:00Z"));
  plan = next_run(synced("2026-01-01T08:00:00Z", "2026-01-01T10:05:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(plan.due, at("2026-01-01T11:05:00Z"));
}

TEST(Planner, AFullSyncWinsWhenBothAreDue) {
  const auto now = at("2026-01-02T10:30:00Z");
  const auto plan = next_run(synced("2026-01-01T10:00:00Z", "2026-01-02T09:30:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(plan.mode, RunMode::full);
  EXPECT_EQ(plan.due, at("2026-01-02T10:30:00Z"));  // overdue since 10:00: runs now
}

TEST(Planner, ARestartCatchesUpWithoutResyncingEverything) {
  // Stopped for three hours after an incremental at 09:00; the last full was at 06:00.
  const auto now = at("2026-01-01T12:00:00Z");
  const auto plan = next_run(synced("2026-01-01T06:00:00Z", "2026-01-01T09:00:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(plan.mode, RunMode::incremental);
  EXPECT_EQ(plan.due, now);
  // A restart soon after a sync waits for its interval instead of syncing again.
  const auto soon = next_run(synced("2026-01-01T06:00:00Z", "2026-01-01T11:55:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(soon.due, at("2026-01-01T12:55:00Z"));
}

TEST(Planner, ADueFullSnapshotSurvivesARestart) {
  const auto now = at("2026-01-03T00:00:00Z");
  const auto plan = next_run(synced("2026-01-01T00:00:00Z", "2026-01-02T23:30:00Z"), hourly_daily, now, 0s);
  EXPECT_EQ(plan.mode, RunMode::full);
  EXPECT_EQ(plan.due, now);
}

TEST(Planner, JitterIsStableBoundedAndSpreadsTenants) {
  const auto max = max_jitter(hourly_daily);
  EXPECT_EQ(max, 5min);
  EXPECT_EQ(max_jitter({10min, 24h}), 1min);
  std::set<long long> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string tenant = "tenant" + std::to_string(i);
    const auto j = jitter_for(tenant, model::Dataset::cpe, hourly_daily);
    EXPECT_GE(j, 0ms);
    EXPECT_LT(j, max);
    EXPECT_EQ(j, jitter_for(tenant, model::Dataset::cpe, hourly_daily));
    seen.insert(j.count());
  }
  EXPECT_GT(seen.size(), 40u);
  EXPECT_NE(jitter_for("a", model::Dataset::cpe, hourly_daily), jitter_for("a", model::Dataset::noncpe, hourly_daily));
}

TEST(Planner, JitterShiftsTheDueTime) {
  const auto now = at("2026-01-01T10:10:00Z");
  const auto plan = next_run(synced("2026-01-01T10:00:00Z"), hourly_daily, now, 90s);
  EXPECT_EQ(plan.due, at("2026-01-01T11:01:30Z"));
}

TEST(Planner, RetryDelaysGrowAndStayWithinTheIncrementalInterval) {
  EXPECT_EQ(retry_delay(1, hourly_daily), 30s);
  EXPECT_EQ(retry_delay(2, hourly_daily), 60s);
  EXPECT_EQ(retry_delay(3, hourly_daily), 120s);
  EXPECT_EQ(retry_delay(20, hourly_daily), 1h);
  EXPECT_EQ(retry_delay(5, {10s, 1h}), 30s);
}

}  // namespace
}  // namespace mdesync::schedule
