// software_changes: what each sync records, written by the merge itself.
// COPY text is written by hand, so these tests do not depend on the parser.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "core/timestamp.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using model::Dataset;
using testing::database_url;
using testing::TempSchema;

// One noncpe row of tenant t1: device, name and version vary, the rest is fixed.
std::string row(const std::string& device, const std::string& name, const std::string& version) {
  return "t1\t" + device + "\t11\tLondon\tname-" + device + "\tWindows11\tacme\t" + name + "\t" + version +
         "\t2021-01-30 11:31:12.271+00\t\\N\n";  // ..., last_seen, extra_fields
}

class ChangeHistory : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::make_unique<SyncStore>(database_url(), schema.name());
    migrate(store->connection(), schema.name());
  }

  // A full snapshot of exactly `rows`, in a run of its own; returns that run's id.
  std::int64_t snapshot(const std::string& rows, SnapshotResult* result = nullptr) {
    const auto run = store->begin_run("t1", Dataset::noncpe, RunMode::full);
    store->begin_snapshot("t1", Dataset::noncpe);
    store->stage("t1", Dataset::noncpe, rows);
    SnapshotOptions o;
    o.removed_at = parse_iso8601("2024-03-01T10:00:00Z").value();
    o.force = true;
    o.advance = {o.removed_at, RunMode::full};
    const auto r = store->apply_snapshot("t1", Dataset::noncpe, o, run);
    if (result != nullptr) *result = r;
    return run;
  }

  // Every event of a run as "device name change old>new", sorted.
  std::string events(std::int64_t run) {
    return scalar("SELECT coalesce(string_agg(device_id || ' ' || software_name || ' ' || change || ' ' ||"
                  " coalesce(old_version, '-') || '>' || coalesce(new_version, '-'), '; '"
                  " ORDER BY device_id, software_name, change, old_version), '') FROM " + changes() +
                  " WHERE run_id = " + std::to_string(run));
  }

  std::string scalar(const std::string& sql) {
    pqxx::nontransaction tx(store->connection());
    const auto r = tx.exec1(sql);
    return r[0].is_null() ? "" : r[0].as<std::string>();
  }
  std::string changes() const { return "\"" + schema.name() + "\".software_changes"; }

  TempSchema schema{"changes"};
  std::unique_ptr<SyncStore> store;
};

TEST_F(ChangeHistory, TheFirstSyncIsTheBaselineAndRecordsNothing) {
  snapshot(row("d1", "app", "1.0") + row("d2", "app", "1.0"));
  EXPECT_EQ(scalar("SELECT count(*) FROM " + changes()), "0");
}

TEST_F(ChangeHistory, AnUpgradeIsOneEventAndANewKeyIsAnInstall) {
  snapshot(row("d1", "app", "1.9") + row("d1", "tool", "2.0") + row("d2", "app", "1.9"));
  SnapshotResult r;
  const auto run = snapshot(row("d1", "app", "1.10") + row("d1", "tool", "2.0") + row("d2", "app", "1.9") +
                                row("d2", "new", "5.0"),
                            &r);
  EXPECT_EQ(events(run), "d1 app upgraded 1.9>1.10; d2 new installed ->5.0");
  EXPECT_EQ(r.changes, 2u);
  EXPECT_EQ(r.removed, 1u);  // the row of app 1.9 on d1 is still marked removed
  EXPECT_EQ(scalar("SELECT device_name || ' ' || dataset || ' ' || software_vendor FROM " + changes() +
                   " WHERE change = 'upgraded'"),
            "name-d1 noncpe acme");
}

TEST_F(ChangeHistory, DowngradeRemovalAndReinstall) {
  snapshot(row("d1", "app", "2.0") + row("d1", "tool", "1.0"));
  const auto second = snapshot(row("d1", "app", "1.5"));
  EXPECT_EQ(events(second), "d1 app downgraded 2.0>1.5; d1 tool removed 1.0>-");
  const auto third = snapshot(row("d1", "app", "1.5") + row("d1", "tool", "1.0"));
  EXPECT_EQ(events(third), "d1 tool reinstalled ->1.0");
}

TEST_F(ChangeHistory, VersionsPairNewestWithNewestWithinADevice) {
  // Two versions side by side, both replaced, and a third line new: oldest pairs with oldest.
  snapshot(row("d1", "jre", "8.0.381") + row("d1", "jre", "17.0.9"));
  const auto run = snapshot(row("d1", "jre", "8.0.391") + row("d1", "jre", "17.0.10") + row("d1", "jre", "21.0.1"));
  EXPECT_EQ(events(run),
            "d1 jre installed ->21.0.1; d1 jre upgraded 17.0.9>17.0.10; d1 jre upgraded 8.0.381>8.0.391");
}

TEST_F(ChangeHistory, AResyncWithNoChangeWritesNothing) {
  const std::string rows = row("d1", "app", "1.0") + row("d2", "app", "1.0");
  snapshot(rows);
  snapshot(row("d1", "app", "1.1") + row("d2", "app", "1.0"));
  const auto before = scalar("SELECT count(*) || '/' || max(id) FROM " + changes());
  ASSERT_EQ(before.substr(0, 2), "1/");
  SnapshotResult r;
  snapshot(row("d1", "app", "1.1") + row("d2", "app", "1.0"), &r);
  EXPECT_EQ(r.changes, 0u);
  EXPECT_EQ(r.upserted, 0u);
  EXPECT_EQ(scalar("SELECT count(*) || '/' || max(id) FROM " + changes()), before);
  // An unchanged incremental page writes nothing either.
  store->upsert_batch("t1", Dataset::noncpe, row("d1", "app", "1.1"), std::nullopt, 42);
  EXPECT_EQ(scalar("SELECT count(*) || '/' || max(id) FROM " + changes()), before);
}

TEST_F(ChangeHistory, IncrementalPagesRecordInstallsAndReinstallsButNeverUpgrades) {
  snapshot(row("d1", "app", "1.0") + row("d1", "tool", "3.0"));
  snapshot(row("d1", "app", "1.0"));  // tool removed
  // The new version arrives while the old row stays: incremental pulls never remove.
  store->upsert_batch("t1", Dataset::noncpe, row("d1", "app", "2.0") + row("d1", "tool", "3.0"), std::nullopt, 77);
  EXPECT_EQ(events(77), "d1 app installed ->2.0; d1 tool reinstalled ->3.0");
  EXPECT_EQ(scalar("SELECT count(*) FROM \"" + schema.name() +
                   "\".noncpe_software_inventory WHERE removed_at IS NULL"),
            "3");
}

TEST_F(ChangeHistory, AFailedMergeRecordsNothing) {
  snapshot(row("d1", "app", "1.0"));
  EXPECT_THROW(store->upsert_batch("t1", Dataset::noncpe, row("d2", "app", "1.0") + "t1\td9\tnot-a-number\n",
                                   std::nullopt, 5),
               std::exception);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + changes()), "0");
}

}  // namespace
}  // namespace mdesync::store
