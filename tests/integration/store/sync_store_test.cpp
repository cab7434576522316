// Staging, merging and the watermark against the real PostgreSQL. COPY text is
// written by hand here so these tests do not depend on the parser.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "core/timestamp.hpp"
#include "store_fixture.hpp"

namespace mdesync::store {
namespace {

using model::Dataset;
using testing::database_url;

// tenant, device_id, rbac_group_id, rbac_group_name, device_name, os_platform, vendor, name, version, last_seen
std::string noncpe_row(const std::string& device, const std::string& name, const std::string& version,
                       const std::string& group_name = "London") {
  return "t1\t" + device + "\t11\t" + group_name + "\tDevice1\tWindows11\tmicrosoft\t" + name + "\t" + version +
         "\t2021-01-30 11:31:12.271+00\t\\N\n";  // ..., last_seen, extra_fields
}

class SyncStoreTest : public StoreFixture {
 protected:
  SyncStoreTest() : StoreFixture("store") {}
};

TEST_F(SyncStoreTest, UpsertInsertsRowsAndDuplicatesInABatchCollapseLastWins) {
  const std::string rows = noncpe_row("d1", "app", "1.0", "first") + noncpe_row("d2", "app", "1.0") +
                           noncpe_row("d1", "app", "1.0", "second");
  EXPECT_EQ(store->upsert_batch("t1", Dataset::noncpe, rows, std::nullopt), 2u);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table()), "2");
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = 'd1'"), "second");
}

TEST_F(SyncStoreTest, UnchangedRowsAreNotRewritten) {
  const std::string rows = noncpe_row("d1", "app", "1.0") + noncpe_row("d2", "app", "1.0");
  store->upsert_batch("t1", Dataset::noncpe, rows, std::nullopt);
  const auto xmin_before = scalar("SELECT string_agg(xmin::text, ',' ORDER BY device_id) FROM " + table());
  const auto changed_before = scalar("SELECT max(last_changed_at) FROM " + table());
  EXPECT_EQ(store->upsert_batch("t1", Dataset::noncpe, rows, std::nullopt), 0u);
  EXPECT_EQ(scalar("SELECT string_agg(xmin::text, ',' ORDER BY device_id) FROM " + table()), xmin_before);
  EXPECT_EQ(scalar("SELECT max(last_changed_at) FROM " + table()), changed_before);
}

TEST_F(SyncStoreTest, AChangedValueUpdatesLastChangedButNotFirstSynced) {
  store->upsert_batch("t1", Dataset::noncpe, noncpe_row("d1", "app", "1.0", "old"), std::nullopt);
  const auto first = scalar("SELECT first_synced_at FROM " + table());
  const auto changed = scalar("SELECT last_changed_at FROM " + table());
  EXPECT_EQ(store->upsert_batch("t1", Dataset::noncpe, noncpe_row("d1", "app", "1.0", "new"), std::nullopt), 1u);
  EXPECT_EQ(scalar("SELECT first_synced_at FROM " + table()), first);
  EXPECT_NE(scalar("SELECT last_changed_at FROM " + table()), changed);
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table()), "new");
}

TEST_F(SyncStoreTest, WatermarkMovesOnlyWithACommittedBatch) {
  const auto t = parse_iso8601("2024-03-01T10:00:00Z").value();
  store->upsert_batch("t1", Dataset::noncpe, noncpe_row("d1", "app", "1.0"), WatermarkUpdate{t, RunMode::incremental});
  EXPECT_EQ(format_iso8601_utc(store->state("t1", Dataset::noncpe).watermark.value()), "2024-03-01T10:00:00.000Z");
  // A batch that fails (a row of the wrong shape) rolls back and leaves the watermark alone.
  const auto later = parse_iso8601("2024-03-02T10:00:00Z").value();
  EXPECT_THROW(store->upsert_batch("t1", Dataset::noncpe, "t1\td9\tnot-a-number\n", WatermarkUpdate{later, RunMode::incremental}),
               std::exception);
  EXPECT_EQ(format_iso8601_utc(store->state("t1", Dataset::noncpe).watermark.value()), "2024-03-01T10:00:00.000Z");
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table()), "1");
  // The connection is usable after the failure.
  store->upsert_batch("t1", Dataset::noncpe, noncpe_row("d2", "app", "1.0"), WatermarkUpdate{later, RunMode::incremental});
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table()), "2");
}

TEST_F(SyncStoreTest, SnapshotRemovesMissingRowsAndRestoresReturningOnes) {
  store->upsert_batch("t1", Dataset::noncpe,
                      noncpe_row("d1", "a", "1") + noncpe_row("d2", "a", "1") + noncpe_row("d3", "a", "1") +
                          noncpe_row("d4", "a", "1"),
                      std::nullopt);
  const auto gen = parse_iso8601("2024-05-01T00:00:00Z").value();
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, noncpe_row("d1", "a", "1") + noncpe_row("d2", "a", "1"));
  store->stage("t1", Dataset::noncpe, noncpe_row("d3", "a", "1"));
  auto r = store->apply_snapshot("t1", Dataset::noncpe, {gen, 0.5, false, {gen, RunMode::full}, std::nullopt});
  EXPECT_FALSE(r.guarded);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(r.upserted, 0u);
  EXPECT_EQ(scalar("SELECT device_id FROM " + table() + " WHERE removed_at IS NOT NULL"), "d4");
  EXPECT_EQ(scalar("SELECT removed_at = '2024-05-01T00:00:00Z' FROM " + table() + " WHERE device_id = 'd4'"), "t");
  // d4 comes back.
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe,
               noncpe_row("d1", "a", "1") + noncpe_row("d2", "a", "1") + noncpe_row("d3", "a", "1") +
                   noncpe_row("d4", "a", "1"));
  r = store->apply_snapshot("t1", Dataset::noncpe, {gen, 0.5, false, {gen, RunMode::full}, std::nullopt});
  EXPECT_EQ(r.upserted, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE removed_at IS NULL"), "4");
}

TEST_F(SyncStoreTest, MassRemovalGuardHoldsRemovalsBackUnlessForced) {
  std::string rows;
  for (int i = 0; i < 10; ++i) rows += noncpe_row("d" + std::to_string(i), "a", "1");
  store->upsert_batch("t1", Dataset::noncpe, rows, std::nullopt);
  const auto gen = parse_iso8601("2024-05-01T00:00:00Z").value();
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, noncpe_row("d0", "a", "1") + noncpe_row("d1", "a", "1"));
  auto r = store->apply_snapshot("t1", Dataset::noncpe, {gen, 0.3, false, {gen, RunMode::full}, std::nullopt});
  EXPECT_TRUE(r.guarded);
  EXPECT_EQ(r.removal_candidates, 8u);
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE removed_at IS NULL"), "10");
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, noncpe_row("d0", "a", "1") + noncpe_row("d1", "a", "1"));
  r = store->apply_snapshot("t1", Dataset::noncpe, {gen, 0.3, true, {gen, RunMode::full}, std::nullopt});
  EXPECT_FALSE(r.guarded);
  EXPECT_EQ(r.removed, 8u);
}

TEST_F(SyncStoreTest, SnapshotOfOneTenantNeverTouchesAnother) {
  store->upsert_batch("t1", Dataset::noncpe, noncpe_row("d1", "a", "1"), std::nullopt);
  std::string other = noncpe_row("d1", "a", "1");
  other.replace(0, 2, "t2");
  store->upsert_batch("t2", Dataset::noncpe, other, std::nullopt);
  const auto gen = parse_iso8601("2024-05-01T00:00:00Z").value();
  store->begin_snapshot("t1", Dataset::noncpe);
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, {gen, 1.0, false, {gen, RunMode::full}, std::nullopt});
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE tenant = 't2' AND removed_at IS NULL"), "1");
}

TEST_F(SyncStoreTest, RunsAreRecordedAndACrashedRunIsMarkedAbandoned) {
  const auto crashed = store->begin_run("t1", Dataset::cpe, RunMode::full);
  const auto next = store->begin_run("t1", Dataset::cpe, RunMode::incremental);
  EXPECT_EQ(scalar("SELECT status FROM \"" + schema.name() + "\".sync_runs WHERE id = " + std::to_string(crashed)),
            "abandoned");
  store->finish_run(next, RunStatus::succeeded, {10, 9, 0, 1}, "");
  EXPECT_EQ(scalar("SELECT status || ',' || rows_received || ',' || rows_upserted || ',' || rows_rejected FROM \"" +
                   schema.name() + "\".sync_runs WHERE id = " + std::to_string(next)),
            "succeeded,10,9,1");
}

TEST_F(SyncStoreTest, AdvisoryLockExcludesASecondSession) {
  SyncStore other(database_url(), schema.name());
  ASSERT_TRUE(store->try_lock("t1", Dataset::cpe));
  EXPECT_FALSE(other.try_lock("t1", Dataset::cpe));
  EXPECT_TRUE(other.try_lock("t1", Dataset::noncpe));
  store->unlock("t1", Dataset::cpe);
  EXPECT_TRUE(other.try_lock("t1", Dataset::cpe));
}

}  // namespace
}  // namespace mdesync::store
