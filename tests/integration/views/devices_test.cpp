// Devices: what the merge keeps per device, how a device that vanished is told
// from an uninstall (device_gone, device_returned), the change feed's NOTIFY, and
// inventory_as_of against snapshots taken at several moments. COPY text is
// written by hand, so these tests do not depend on the parser.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <random>
#include <set>

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

// One row of tenant t1: device, name and version vary, the rest is fixed.
std::string noncpe(const std::string& device, const std::string& name, const std::string& version) {
  return "t1\t" + device + "\t11\tLondon\tname-" + device + "\tWindows11\tacme\t" + name + "\t" + version +
         "\t2021-01-30 11:31:12.271+00\t\\N\n";  // ..., last_seen, extra_fields
}
std::string cpe(const std::string& device, const std::string& name, const std::string& version) {
  return "t1\t" + device + "\tLondon\tname-" + device + "\tWindows11\tacme\t" + name + "\t" + version +
         "\t0\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";  // weaknesses, paths, first seen, end of support, extra_fields
}
std::string row(Dataset ds, const std::string& device, const std::string& name, const std::string& version) {
  return ds == Dataset::cpe ? cpe(device, name, version) : noncpe(device, name, version);
}

class Devices : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::make_unique<SyncStore>(database_url(), schema.name());
    migrate(store->connection(), schema.name());
  }

  // A full snapshot of exactly `rows` taken at `at` (removed_at, last_snapshot_at), in a
  // run of its own; returns that run's id.
  std::int64_t snapshot(Dataset ds, const std::string& rows, const std::string& at) {
    const auto run = store->begin_run("t1", ds, RunMode::full);
    store->begin_snapshot("t1", ds);
    store->stage("t1", ds, rows);
    SnapshotOptions o;
    o.removed_at = parse_iso8601(at).value();
    o.force = true;
    o.advance = {o.removed_at, RunMode::full};
    store->apply_snapshot("t1", ds, o, run);
    return run;
  }
  std::int64_t snapshot(const std::string& rows, const std::string& at) { return snapshot(Dataset::noncpe, rows, at); }

  // Every event of a run as "device name change old>new", sorted.
  std::string events(std::int64_t run) {
    return scalar("SELECT coalesce(string_agg(device_id || ' ' || software_name || ' ' || change || ' ' ||"
                  " coalesce(old_version, '-') || '>' || coalesce(new_version, '-'), '; '"
                  " ORDER BY device_id, software_name, change, old_version), '') FROM " + s("software_changes") +
                  " WHERE run_id = " + std::to_string(run));
  }
  // A device as the devices view shows it: "name gone_at last_seen_at cpe noncpe" (UTC, "-" for NULL).
  std::string device(const std::string& id) {
    return scalar("SELECT device_name || ' ' || coalesce(to_char(gone_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), '-')"
                  " || ' ' || coalesce(to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI'), '-')"
                  " || ' ' || cpe_software || ' ' || noncpe_software FROM " + s("devices") +
                  " WHERE tenant = 't1' AND device_id = " + quote(id));
  }
  // device_presence against the rows themselves: every count right, gone exactly when empty.
  void expect_devices_match_rows() {
    EXPECT_EQ(scalar("SELECT count(*) FROM " + s("device_presence") + " p FULL JOIN ("
                     " SELECT tenant, device_id, 'cpe' AS dataset, count(*) FILTER (WHERE removed_at IS NULL) AS n"
                     " FROM " + s("software_inventory") + " GROUP BY 1, 2 UNION ALL"
                     " SELECT tenant, device_id, 'noncpe', count(*) FILTER (WHERE removed_at IS NULL)"
                     " FROM " + s("noncpe_software_inventory") + " GROUP BY 1, 2) r"
                     " USING (tenant, device_id, dataset)"
                     " WHERE p.software IS DISTINCT FROM r.n OR (p.gone_at IS NULL) <> (p.software > 0)"),
              "0")
        << scalar("SELECT string_agg(device_id || '/' || dataset || '=' || software, ' ') FROM " +
                  s("device_presence"));
  }

  std::string scalar(const std::string& sql) {
    pqxx::nontransaction tx(store->connection());
    const auto r = tx.exec1(sql);
    return r[0].is_null() ? "" : r[0].as<std::string>();
  }
  std::string s(const std::string& object) const { return "\"" + schema.name() + "\"." + object; }
  static std::string quote(const std::string& v) { return "'" + v + "'"; }

  TempSchema schema{"devices"};
  std::unique_ptr<SyncStore> store;
};

TEST_F(Devices, ADeviceThatVanishesIsDeviceGoneNotRemoved) {
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "2.0") + noncpe("d2", "app", "1.0"), "2024-03-01T10:00:00Z");
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "2.0") + noncpe("d2", "app", "1.0"), "2024-03-02T10:00:00Z");
  const auto run = snapshot(noncpe("d2", "app", "1.0"), "2024-03-03T10:00:00Z");
  EXPECT_EQ(events(run), "d1 app device_gone 1.0>-; d1 tool device_gone 2.0>-");
  // Gone at the snapshot that listed nothing of it, last seen in the one before.
  EXPECT_EQ(device("d1"), "name-d1 2024-03-03T10:00 2024-03-02T10:00 0 0");
  EXPECT_EQ(device("d2"), "name-d2 - 2024-03-03T10:00 0 1");
  // Still marked removed like any row, and still counted as removed by the run.
  EXPECT_EQ(scalar("SELECT count(*) FROM " + s("noncpe_software_inventory") + " WHERE removed_at IS NOT NULL"), "2");
  expect_devices_match_rows();
}

TEST_F(Devices, UninstallingSomeOfADevicesSoftwareIsStillRemoved) {
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "2.0"), "2024-03-01T10:00:00Z");
  const auto run = snapshot(noncpe("d1", "app", "1.1"), "2024-03-02T10:00:00Z");
  EXPECT_EQ(events(run), "d1 app upgraded 1.0>1.1; d1 tool removed 2.0>-");
  EXPECT_EQ(device("d1"), "name-d1 - 2024-03-02T10:00 0 1");
  expect_devices_match_rows();
}

TEST_F(Devices, AGoneDeviceThatComesBackIsDeviceReturnedInFullAndIncrementalSyncs) {
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "2.0") + noncpe("d2", "app", "1.0"), "2024-03-01T10:00:00Z");
  snapshot(noncpe("d2", "app", "1.0"), "2024-03-02T10:00:00Z");
  const auto back = snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "new", "3.0") + noncpe("d2", "app", "1.0"),
                             "2024-03-03T10:00:00Z");
  EXPECT_EQ(events(back), "d1 app device_returned ->1.0; d1 new device_returned ->3.0");
  EXPECT_EQ(device("d1"), "name-d1 - 2024-03-03T10:00 0 2");

  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "new", "3.0"), "2024-03-04T10:00:00Z");  // d2 gone
  EXPECT_EQ(device("d2"), "name-d2 2024-03-04T10:00 2024-03-03T10:00 0 0");
  store->upsert_batch("t1", Dataset::noncpe, noncpe("d2", "app", "1.0"), std::nullopt, 77);
  EXPECT_EQ(events(77), "d2 app device_returned ->1.0");
  // Returned by an incremental pull just now: seen after every snapshot.
  EXPECT_EQ(scalar("SELECT gone_at IS NULL AND last_seen_at > '2025-01-01' FROM " + s("devices") +
                   " WHERE device_id = 'd2'"),
            "t");
  expect_devices_match_rows();
}

TEST_F(Devices, ADeviceIsGoneOnlyWhenEveryDataSetListsNothingOfIt) {
  snapshot(Dataset::cpe, cpe("d1", "office", "16.0") + cpe("d2", "office", "16.0"), "2024-03-01T10:00:00Z");
  snapshot(Dataset::noncpe, noncpe("d1", "tool", "1.0") + noncpe("d2", "tool", "1.0"), "2024-03-01T11:00:00Z");
  const auto cpe_run = snapshot(Dataset::cpe, cpe("d2", "office", "16.0"), "2024-03-02T10:00:00Z");
  EXPECT_EQ(events(cpe_run), "d1 office device_gone 16.0>-");
  // Its non-CPE software is still there: not gone, last seen by that snapshot.
  EXPECT_EQ(device("d1"), "name-d1 - 2024-03-01T11:00 0 1");
  snapshot(Dataset::noncpe, noncpe("d2", "tool", "1.0"), "2024-03-02T11:00:00Z");
  EXPECT_EQ(device("d1"), "name-d1 2024-03-02T11:00 2024-03-01T11:00 0 0");
  EXPECT_EQ(device("d2"), "name-d2 - 2024-03-02T11:00 1 1");
  expect_devices_match_rows();
}

TEST_F(Devices, NamesFollowTheLastSyncAndAGuardedSnapshotMovesNoSighting) {
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d2", "app", "1.0") + noncpe("d3", "app", "1.0"), "2024-03-01T10:00:00Z");
  std::string renamed = noncpe("d1", "app", "1.0");
  renamed.replace(renamed.find("name-d1"), 7, "laptop-7");
  // d2 and d3 vanish: two thirds of the rows, more than the guard lets through.
  const auto run = store->begin_run("t1", Dataset::noncpe, RunMode::full);
  store->begin_snapshot("t1", Dataset::noncpe);
  store->stage("t1", Dataset::noncpe, renamed);
  SnapshotOptions o;
  o.removed_at = parse_iso8601("2024-03-02T10:00:00Z").value();
  o.advance = {o.removed_at, RunMode::full};
  EXPECT_TRUE(store->apply_snapshot("t1", Dataset::noncpe, o, run).guarded);
  EXPECT_EQ(device("d1"), "laptop-7 - 2024-03-01T10:00 0 1");
  EXPECT_EQ(device("d2"), "name-d2 - 2024-03-01T10:00 0 1");
  EXPECT_EQ(events(run), "");
  expect_devices_match_rows();
}

// Full and incremental syncs, first loads (also with a key staged twice) and
// pages before the baseline, at random: the counts always equal the rows.
TEST_F(Devices, TheCountsAlwaysEqualTheCurrentRows) {
  std::mt19937 random(20261204);
  const auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  // The first sync: two incremental pages before any baseline, the second one moving the watermark.
  store->upsert_batch("t1", Dataset::noncpe, noncpe("d1", "app", "1.0") + noncpe("d2", "app", "1.0"), std::nullopt);
  store->upsert_batch("t1", Dataset::noncpe, noncpe("d1", "tool", "1.0") + noncpe("d3", "app", "1.0"),
                      WatermarkUpdate{SystemTime{}, RunMode::incremental});
  expect_devices_match_rows();
  // A first load with a key staged twice takes the merge instead of the plain insert.
  snapshot(Dataset::cpe, cpe("d1", "office", "16.0") + cpe("d1", "office", "16.0") + cpe("d4", "office", "15.0"),
           "2024-03-01T00:00:00Z");
  expect_devices_match_rows();
  for (int step = 0; step < 24; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const Dataset ds = pick(2) == 0 ? Dataset::cpe : Dataset::noncpe;
    std::string rows;
    for (int d = 1; d <= 6; ++d) {
      if (pick(3) == 0) continue;  // the device is missing from this snapshot or page
      for (int n = 0; n < 3; ++n)
        if (pick(2) == 0) rows += row(ds, "d" + std::to_string(d), "sw" + std::to_string(n), "1." + std::to_string(pick(3)));
    }
    if (pick(3) == 0) {
      store->upsert_batch("t1", ds, rows, std::nullopt, 1000 + step);
    } else {
      snapshot(ds, rows, "2024-04-" + std::string(step < 9 ? "0" : "") + std::to_string(step + 1) + "T00:00:00Z");
    }
    expect_devices_match_rows();
  }
  // Every device without software is gone, and its events say so.
  EXPECT_EQ(scalar("SELECT count(*) FROM " + s("devices") + " WHERE (gone_at IS NULL) <> (cpe_software + noncpe_software > 0)"),
            "0");
}

// Collects the change feed's notifications of one schema on a connection of its
// own (tests running at the same time notify the same channel).
class Feed : public pqxx::notification_receiver {
 public:
  Feed(pqxx::connection_base& c, const std::string& schema)
      : pqxx::notification_receiver(c, std::string(changes_channel)), mine_("{\"schema\" : \"" + schema + "\", ") {}
  void operator()(const std::string& payload, int) override {
    if (payload.starts_with(mine_)) payloads.push_back(payload);
  }
  // The next notification, waiting at most 10 s for it.
  std::string next() {
    for (int i = 0; i < 100 && payloads.empty(); ++i) conn().await_notification(0, 100000);
    if (payloads.empty()) return "(none)";
    const auto p = payloads.front();
    payloads.erase(payloads.begin());
    return p;
  }
  std::vector<std::string> payloads;

 private:
  std::string mine_;
};

TEST_F(Devices, ChangesAreNotifiedOnlyWhenTheyCommit) {
  pqxx::connection listener(database_url());
  Feed feed(listener, schema.name());
  const auto baseline = snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "1.0"), "2024-03-01T10:00:00Z");
  // Nothing recorded (the baseline), nothing changed, a failed page: no notification.
  snapshot(noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "1.0"), "2024-03-02T10:00:00Z");
  EXPECT_THROW(store->upsert_batch("t1", Dataset::noncpe, noncpe("d2", "app", "1.0") + "t1\td9\tnot-a-number\n",
                                   std::nullopt, 5),
               std::exception);
  const auto run = snapshot(noncpe("d1", "app", "1.1") + noncpe("d2", "app", "1.0"), "2024-03-03T10:00:00Z");
  // Notifications arrive in commit order: the first one is this run's.
  const auto payload = feed.next();
  pqxx::row r;
  {
    // libpqxx delivers no notification while a transaction is open on the connection.
    pqxx::nontransaction tx(listener);
    r = tx.exec_params1(
        "SELECT p->>'schema', p->>'tenant', p->>'dataset', (p->>'run_id')::bigint, p->'changes'::text,"
        " (p->>'observed_at')::timestamptz = (SELECT max(observed_at) FROM " + s("software_changes") + ")"
        " FROM (SELECT $1::jsonb AS p) x",
        payload);
  }
  EXPECT_EQ(r[0].as<std::string>(), schema.name());
  EXPECT_EQ(r[1].as<std::string>(), "t1");
  EXPECT_EQ(r[2].as<std::string>(), "noncpe");
  EXPECT_EQ(r[3].as<std::int64_t>(), run);
  EXPECT_NE(r[3].as<std::int64_t>(), baseline);
  EXPECT_EQ(r[4].as<std::string>(), R"({"removed": 1, "upgraded": 1, "installed": 1})");
  EXPECT_TRUE(r[5].as<bool>()) << payload;
  // An incremental page that installs something: one more, with its run id.
  store->upsert_batch("t1", Dataset::noncpe, noncpe("d3", "app", "1.0"), std::nullopt, 91);
  const auto incremental = feed.next();
  EXPECT_NE(incremental.find(R"("run_id" : 91, )"), std::string::npos) << incremental;
  EXPECT_TRUE(feed.payloads.empty());
}

// inventory_as_of, against what inventory_current showed at each moment.
TEST_F(Devices, InventoryAsOfEqualsTheInventorySeenAtEachMoment) {
  const std::string keys =
      "SELECT coalesce(string_agg(dataset || ':' || device_id || ':' || software_name || ':' || software_version, ' '"
      " ORDER BY dataset, device_id, software_name, software_version), '') FROM ";
  struct Moment {
    std::string at, all, d1;  // the moment, every key current then, d1's keys
  };
  std::vector<Moment> seen;
  const auto take = [&] {
    const auto at = scalar("SELECT clock_timestamp()::text");
    seen.push_back({at, scalar(keys + s("inventory_current")),
                    scalar(keys + s("inventory_current") + " WHERE tenant = 't1' AND device_id = 'd1'")});
  };
  take();  // before the first sync: nothing
  snapshot(Dataset::noncpe, noncpe("d1", "app", "1.0") + noncpe("d1", "tool", "2.0") + noncpe("d2", "app", "1.0"),
           "2024-03-01T10:00:00Z");
  snapshot(Dataset::cpe, cpe("d1", "office", "16.0") + cpe("d3", "office", "15.0"), "2024-03-01T10:00:00Z");
  take();
  // An upgrade, an uninstall and a new device.
  snapshot(Dataset::noncpe, noncpe("d1", "app", "1.1") + noncpe("d2", "app", "1.0") + noncpe("d4", "x", "1"),
           "2024-03-02T10:00:00Z");
  take();
  // Incremental: an install and a reinstall.
  store->upsert_batch("t1", Dataset::noncpe, noncpe("d1", "tool", "2.0") + noncpe("d2", "new", "9"), std::nullopt, 7);
  take();
  // d1 vanishes from both data sets; d3 upgrades.
  snapshot(Dataset::noncpe, noncpe("d2", "app", "1.0") + noncpe("d2", "new", "9") + noncpe("d4", "x", "1"),
           "2024-03-03T10:00:00Z");
  snapshot(Dataset::cpe, cpe("d3", "office", "16.0"), "2024-03-03T10:00:00Z");
  take();
  // d1 comes back with an older version; d2's new software is uninstalled.
  snapshot(Dataset::noncpe, noncpe("d1", "app", "1.0") + noncpe("d2", "app", "1.0") + noncpe("d4", "x", "1"),
           "2024-03-04T10:00:00Z");
  take();
  ASSERT_EQ(seen.front().all, "");
  for (const auto& m : seen) {
    SCOPED_TRACE(m.at);
    EXPECT_EQ(scalar(keys + s("inventory_as_of") + "(" + quote(m.at) + ")"), m.all);
    // One device: the same answer through the filter that reaches the indexes.
    EXPECT_EQ(scalar(keys + s("inventory_as_of") + "(" + quote(m.at) + ") WHERE tenant = 't1' AND device_id = 'd1'"),
              m.d1);
  }
}

}  // namespace
}  // namespace mdesync::store
