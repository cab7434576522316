// Row digests against the real PostgreSQL: a snapshot that repeats rows unchanged
// sends markers instead of rows and rewrites nothing; the first load of a tenant
// takes the plain-insert path (dropping and rebuilding the indexes of an empty
// table); a resumed export snapshot still knows the rows staged before a restart.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <cstdlib>
#include <map>

#include "core/error.hpp"
#include "core/timestamp.hpp"
#include "store/merge_sql.hpp"
#include "store/row_digest.hpp"
#include "store/snapshot_file_writer.hpp"
#include "store_fixture.hpp"

namespace mdesync::store {
namespace {

using model::Dataset;
using testing::database_url;

std::string row(const std::string& device, const std::string& version = "1", const std::string& group = "London",
                const std::string& tenant = "t1") {
  return tenant + "\t" + device + "\t11\t" + group + "\tDevice1\tWindows11\tmicrosoft\tapp\t" + version +
         "\t2021-01-30 11:31:12.271+00\t\\N\n";  // ..., last_seen, extra_fields
}

class RowDigestSyncTest : public StoreFixture {
 protected:
  RowDigestSyncTest() : StoreFixture("digest") {}
  // The row's physical version: unchanged unless the row was rewritten.
  std::string version_of(const std::string& device) {
    return scalar("SELECT xmin::text || ctid::text FROM " + table() + " WHERE device_id = '" + device + "'");
  }
  void baseline(const std::string& rows) {
    store->upsert_batch("t1", Dataset::noncpe, rows, WatermarkUpdate{gen, RunMode::full});
  }
  SnapshotOptions options(bool force = false) { return {gen, 0.9, force, {gen, RunMode::full}, std::nullopt}; }
  std::string indexes() {
    return scalar("SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = '" +
                  schema.name() + "' AND tablename = 'noncpe_software_inventory'");
  }

  SystemTime gen = parse_iso8601("2024-05-01T00:00:00Z").value();
};

TEST_F(RowDigestSyncTest, UnchangedRowsTravelAsMarkersAndAreNeverRewritten) {
  baseline(row("d1") + row("d2") + row("d3") + row("d4"));
  const std::string d1 = version_of("d1"), d3 = version_of("d3");
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2", "1", "Paris"));
  store->stage("t1", Dataset::noncpe, row("d3") + row("d5"));
  const std::string stage = store->snapshot_stage("t1", Dataset::noncpe);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + stage + " WHERE software_version IS NULL AND row_digest IS NOT NULL"), "2");
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.unchanged, 2u);
  EXPECT_EQ(r.upserted, 2u);  // d2 changed, d5 new
  EXPECT_EQ(r.removed, 1u);   // d4
  EXPECT_EQ(scalar("SELECT string_agg(device_id, ',' ORDER BY device_id) FROM " + table() + " WHERE removed_at IS NULL"),
            "d1,d2,d3,d5");
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = 'd2'"), "Paris");
  EXPECT_EQ(version_of("d1"), d1);
  EXPECT_EQ(version_of("d3"), d3);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE row_digest IS NULL"), "0");
}

TEST_F(RowDigestSyncTest, AChangedRowIsNeitherRemovedNorLeftWithItsOldDigest) {
  baseline(row("d1") + row("d2"));
  const std::string old_digest = scalar("SELECT row_digest FROM " + table() + " WHERE device_id = 'd2'");
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2", "1", "Paris"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.removed, 0u);
  EXPECT_NE(scalar("SELECT row_digest FROM " + table() + " WHERE device_id = 'd2'"), old_digest);
  // The next identical snapshot changes nothing at all.
  const std::string d2 = version_of("d2");
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2", "1", "Paris"));
  const auto again = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(again.unchanged, 2u);
  EXPECT_EQ(again.upserted, 0u);
  EXPECT_EQ(version_of("d2"), d2);
}

TEST_F(RowDigestSyncTest, ATenantAboveTheDigestLimitLoadsTheDigestsOfAShareAndComparesTheRestByKey) {
  std::string rows;
  for (int i = 0; i < 400; ++i) rows += row("d" + std::to_string(i));
  baseline(rows);
  std::map<std::string, std::string> versions;
  for (int i = 0; i < 400; ++i) versions["d" + std::to_string(i)] = version_of("d" + std::to_string(i));
  store->set_known_rows_limit(100);
  store->begin_snapshot("t1", Dataset::noncpe);
  const auto known = store->snapshot_known_rows("t1", Dataset::noncpe);
  ASSERT_NE(known, nullptr);
  ASSERT_TRUE(known->loaded_below());
  EXPECT_GT(known->size(), 50u);  // about 100 of the 400 (digests are uniform)
  EXPECT_LT(known->size(), 150u);
  // Every 10th row changed, every 7th gone, the rest repeated unchanged.
  std::string snapshot;
  for (int i = 0; i < 400; ++i) {
    if (i % 7 == 0) continue;
    snapshot += i % 10 == 0 ? row("d" + std::to_string(i), "1", "Paris") : row("d" + std::to_string(i));
  }
  store->stage("t1", Dataset::noncpe, snapshot);
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_GT(r.unchanged, 0u);
  EXPECT_EQ(r.removed, 58u);  // 0, 7, ..., 399
  EXPECT_EQ(r.upserted, 34u);  // multiples of 10 that are not multiples of 7
  for (int i = 0; i < 400; ++i) {
    const std::string d = "d" + std::to_string(i);
    if (i % 7 == 0) {
      EXPECT_EQ(scalar("SELECT removed_at IS NOT NULL FROM " + table() + " WHERE device_id = '" + d + "'"), "t") << d;
    } else if (i % 10 == 0) {
      EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = '" + d + "'"), "Paris") << d;
    } else {
      EXPECT_EQ(version_of(d), versions[d]) << d;  // never rewritten, whichever way it was compared
    }
  }
}

TEST_F(RowDigestSyncTest, ADigestLimitOfZeroComparesEveryRowInPostgreSQL) {
  baseline(row("d1") + row("d2") + row("d3"));
  const std::string d1 = version_of("d1");
  store->set_known_rows_limit(0);
  store->begin_snapshot("t1", Dataset::noncpe);
  EXPECT_EQ(store->snapshot_known_rows("t1", Dataset::noncpe), nullptr);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2", "1", "Paris"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.unchanged, 0u);
  EXPECT_EQ(r.upserted, 1u);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(version_of("d1"), d1);  // the merge still leaves an unchanged row alone
}

TEST_F(RowDigestSyncTest, RowsWithoutADigestGetOneOnceWithoutCountingAsChanged) {
  baseline(row("d1") + row("d2"));
  {
    pqxx::work tx(store->connection());
    tx.exec("UPDATE " + table() + " SET row_digest = NULL, last_changed_at = '2020-01-01Z'");
    tx.commit();
  }
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE row_digest IS NULL"), "0");
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE last_changed_at = '2020-01-01Z'"), "2");
  EXPECT_EQ(scalar("SELECT count(*) FROM \"" + schema.name() + "\".software_changes"), "0");
  // A legacy row missing from the snapshot is still removed.
  {
    pqxx::work tx(store->connection());
    tx.exec("UPDATE " + table() + " SET row_digest = NULL WHERE device_id = 'd2'");
    tx.commit();
  }
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1"));
  EXPECT_EQ(store->apply_snapshot("t1", Dataset::noncpe, options()).removed, 1u);
}

TEST_F(RowDigestSyncTest, FirstLoadIntoAnEmptyTableRebuildsEveryIndexItDropped) {
  const std::string before = indexes();
  ASSERT_NE(before.find("CREATE UNIQUE INDEX noncpe_software_inventory_pkey"), std::string::npos) << before;
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2") + row("d3"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_TRUE(r.first_load);
  EXPECT_TRUE(r.indexes_rebuilt);
  EXPECT_EQ(r.upserted, 3u);
  EXPECT_EQ(indexes(), before);
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_constraint WHERE conrelid = '" + table() + "'::regclass AND contype = 'p'"),
            "1");
  // A second tenant's first load goes through the plain insert, next to t1's rows.
  store->begin_snapshot("t2", Dataset::noncpe);
  store->stage("t2", Dataset::noncpe, row("d1", "1", "London", "t2"));
  const auto second = store->apply_snapshot("t2", Dataset::noncpe, options());
  EXPECT_TRUE(second.first_load);
  EXPECT_FALSE(second.indexes_rebuilt);
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table()), "4");
  EXPECT_EQ(indexes(), before);
}

TEST_F(RowDigestSyncTest, FirstLoadWithAKeyStagedTwiceKeepsTheLastOne) {
  const std::string before = indexes();
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1", "1", "first") + row("d2"));
  store->stage("t1", Dataset::noncpe, row("d1", "1", "second"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.upserted, 2u);
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = 'd1'"), "second");
  EXPECT_EQ(indexes(), before);
}

TEST_F(RowDigestSyncTest, AResumedSnapshotRemembersTheRowsStagedBeforeTheRestart) {
  baseline(row("d1") + row("d2") + row("d3"));
  EXPECT_TRUE(store->resume_snapshot("t1", Dataset::noncpe, gen).empty());
  const std::string stage = store->snapshot_stage("t1", Dataset::noncpe);
  {
    SnapshotFileWriter writer(database_url(), schema.name(), "t1", Dataset::noncpe, stage,
                              store->snapshot_known_rows("t1", Dataset::noncpe));
    writer.begin();
    writer.write(row("d1"));
    writer.commit("https://storage/file1", gen, 1, 0);
  }
  // The process restarts: a new store, the same snapshot.
  store = std::make_unique<SyncStore>(database_url(), schema.name());
  EXPECT_EQ(store->resume_snapshot("t1", Dataset::noncpe, gen).size(), 1u);
  {
    SnapshotFileWriter writer(database_url(), schema.name(), "t1", Dataset::noncpe, stage,
                              store->snapshot_known_rows("t1", Dataset::noncpe));
    writer.begin();
    writer.write(row("d2"));
    writer.commit("https://storage/file2", gen, 1, 0);
  }
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(r.unchanged, 2u);
  EXPECT_EQ(scalar("SELECT device_id FROM " + table() + " WHERE removed_at IS NOT NULL"), "d3");
}

TEST_F(RowDigestSyncTest, ALineSharingTheFirst64BitsOfAKnownDigestIsCaughtAndTheNextSnapshotSendsItInFull) {
  baseline(row("d1") + row("d2"));
  // d2 changes; make its stored digest share the first 64 bits of the new line's
  // (what two different rows do about once in 2^64 pairs, or a crafted row).
  const std::string changed = row("d2", "1", "Paris");
  RowDigest crafted = digest_row(std::string_view(changed).substr(3, changed.size() - 4));
  crafted.low ^= 0x5a5a;
  std::string crafted_text;
  append_uuid(crafted_text, crafted);
  {
    pqxx::work tx(store->connection());
    tx.exec("UPDATE " + table() + " SET row_digest = '" + crafted_text + "' WHERE device_id = 'd2'");
    tx.commit();
  }
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + changed);
  try {
    store->apply_snapshot("t1", Dataset::noncpe, options());
    FAIL() << "a snapshot with a marker that matches only 64 bits was applied";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::transient);
    EXPECT_NE(std::string(e.what()).find("first 64 bits"), std::string::npos) << e.what();
  }
  // Nothing applied, the stage gone, the suspect row without a digest.
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = 'd2'"), "London");
  EXPECT_EQ(scalar("SELECT to_regclass('" + store->snapshot_stage("t1", Dataset::noncpe) + "') IS NULL"), "t");
  // The suspects are the seen rows of the slot: with two rows, both.
  EXPECT_EQ(scalar("SELECT row_digest IS NULL FROM " + table() + " WHERE device_id = 'd2'"), "t");
  // The next snapshot sends d2 in full and applies.
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1") + changed);
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.removed, 0u);
  EXPECT_EQ(scalar("SELECT rbac_group_name FROM " + table() + " WHERE device_id = 'd2'"), "Paris");
  EXPECT_EQ(scalar("SELECT count(*) FROM " + table() + " WHERE row_digest IS NULL"), "0");
}

TEST_F(RowDigestSyncTest, TheRemovalPassJoinsTheUnseenDigestsAtAnySizeOfWorkMem) {
  // A per-row subplan over the unseen digests (PostgreSQL's choice for
  // "digest IS NULL OR digest IN (...)" once they outgrow work_mem) is quadratic:
  // at 10 million rows the daily snapshot's removal pass did not finish in 6 minutes.
  // 6,000 unseen digests need more than 64 kB twice over (hash_mem_multiplier).
  std::string rows;
  for (int i = 0; i < 6000; ++i) rows += row("d" + std::to_string(i));
  baseline(rows);
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, row("d1"));
  const std::string stage = store->snapshot_stage("t1", Dataset::noncpe);
  pqxx::work tx(store->connection());
  tx.exec("CREATE TEMP TABLE unseen AS SELECT row_digest FROM " + table() + " WHERE device_id <> 'd1'");
  tx.exec(std::string("INSERT INTO unseen VALUES ('") + sql::no_digest_sentinel + "')");
  tx.exec("ANALYZE unseen");
  tx.exec("SET LOCAL work_mem = '64kB'");
  for (const std::string& unloaded_from : {std::string(), std::string("80000000-0000-0000-0000-000000000000")}) {
    std::string statement = sql::mark_removed(table(), stage, model::spec(Dataset::noncpe), "pg_temp.unseen",
                                              "now()", unloaded_from);
    statement.replace(statement.find("$1"), 2, "'t1'");
    statement.replace(statement.find("$2"), 2, "now()");
    std::string plan;
    for (const auto& line : tx.exec("EXPLAIN " + statement)) plan += line[0].as<std::string>() + "\n";
    EXPECT_EQ(plan.find("SubPlan"), std::string::npos) << plan;
    EXPECT_NE(plan.find("Seq Scan on unseen"), std::string::npos) << plan;
  }
}

TEST_F(RowDigestSyncTest, WithoutRoomForTheDigestFileTheSnapshotIsComparedByKey) {
  baseline(row("d1") + row("d2") + row("d3"));
  const std::string d1 = version_of("d1");
  const char* before = std::getenv("TMPDIR");
  const std::string saved = before ? before : "";
  ::setenv("TMPDIR", "/nonexistent-dir-for-mdesync", 1);
  store->begin_snapshot("t1", Dataset::noncpe);
  if (before) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_EQ(store->snapshot_known_rows("t1", Dataset::noncpe), nullptr);
  store->stage("t1", Dataset::noncpe, row("d1") + row("d2", "1", "Paris"));
  const auto r = store->apply_snapshot("t1", Dataset::noncpe, options());
  EXPECT_EQ(r.upserted, 1u);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_EQ(version_of("d1"), d1);
}

}  // namespace
}  // namespace mdesync::store
