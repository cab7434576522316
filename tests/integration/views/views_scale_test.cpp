// The views on generated data: each typical dashboard query is answered from its
// index, not a scan of the inventory. The suite generates 200,000 inventory rows;
// MDESYNC_VIEWS_ROWS=10000000 runs the same checks at 10 million and prints the
// timings (no timing is asserted: shared CI machines vary too much).
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>

#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using testing::database_url;
using testing::TempSchema;

long long rows_wanted() {
  const char* v = std::getenv("MDESYNC_VIEWS_ROWS");
  return v != nullptr && *v != '\0' ? std::atoll(v) : 200000;
}

// Fills the schema: devices of 100 CPE products each (1,000 products, up to 4 versions
// each, a third vulnerable, one in ten with end-of-support data), a fifth as many
// non-CPE rows (all first synced a year ago), a sync state and change events
// spread over a year.
void generate(pqxx::connection_base& conn, const std::string& s, long long rows) {
  pqxx::nontransaction tx(conn);
  const std::string devices = std::to_string(std::max(1LL, rows / 100));
  tx.exec("SET maintenance_work_mem = '256MB'");
  tx.exec(
      "INSERT INTO " + s + ".software_inventory (tenant, device_id, rbac_group_name, device_name, os_platform,"
      " software_vendor, software_name, software_version, number_of_weaknesses, end_of_support_status,"
      " end_of_support_date, software_first_seen_timestamp, first_synced_at)\n"
      "SELECT 'contoso', 'dev-' || d, 'group-' || (d % 20), 'DEVICE-' || d, 'Windows11', 'vendor' || (p % 50),"
      " 'product' || p, (p % 7 + 1) || '.' || ((d / 7 + p) % 4) || '.' || (p % 13),"
      " CASE WHEN (p + (d / 7 + p) % 4) % 3 = 0 THEN (p * 7 + d) % 40 + 1 ELSE 0 END,"
      " CASE WHEN p % 10 = 0 THEN CASE WHEN p % 20 = 0 THEN 'EOS Version' ELSE 'Upcoming EOS Version' END END,"
      " CASE WHEN p % 10 = 0 THEN now() + ((p % 400) - 200) * interval '1 day' END,"
      " now() - (d % 300) * interval '1 day', now() - interval '1 year'\n"
      "FROM generate_series(1, " + devices + ") AS d, generate_series(1, 100) AS i,"
      " LATERAL (SELECT i * 7 + d % 293 AS p) AS x");
  tx.exec(
      "INSERT INTO " + s + ".noncpe_software_inventory (tenant, device_id, rbac_group_id, rbac_group_name,"
      " device_name, os_platform, software_vendor, software_name, software_version, software_last_seen_timestamp,"
      " first_synced_at)\n"
      "SELECT 'contoso', 'dev-' || d, d % 20, 'group-' || (d % 20), 'DEVICE-' || d, 'Windows11',"
      " 'nvendor' || (p % 30), 'tool' || p, '1.' || (d % 5), now() - (d % 30) * interval '1 day',"
      " now() - interval '1 year'\n"
      "FROM generate_series(1, " + devices + ") AS d, generate_series(1, 20) AS i,"
      " LATERAL (SELECT i * 11 + d % 97 AS p) AS x");
  tx.exec("INSERT INTO " + s + ".sync_state (tenant, dataset, watermark, last_full_at, last_incremental_at)"
          " VALUES ('contoso', 'cpe', now(), now() - interval '1 day', now()),"
          " ('contoso', 'noncpe', now(), now() - interval '1 day', now())");
  tx.exec("INSERT INTO " + s + ".sync_runs (tenant, dataset, mode, started_at, finished_at, status)"
          " SELECT 'contoso', CASE WHEN n % 2 = 0 THEN 'cpe' ELSE 'noncpe' END, 'incremental',"
          " now() - n * interval '15 minutes', now() - n * interval '15 minutes' + interval '10 seconds',"
          " CASE WHEN n % 50 = 0 THEN 'failed' ELSE 'succeeded' END FROM generate_series(1, 20000) AS n");
  tx.exec("INSERT INTO " + s + ".software_changes (tenant, dataset, device_id, device_name, software_vendor,"
          " software_name, old_version, new_version, change, observed_at, run_id)"
          " SELECT 'contoso', 'cpe', 'dev-' || (n % " + devices + " + 1), 'DEVICE-' || (n % " + devices + " + 1),"
          " 'vendor' || (n % 50), 'product' || (n % 1000), '1.0', '1.1', 'upgraded',"
          " now() - (n % 365) * interval '1 day', n % 20000 FROM generate_series(1, " +
          std::to_string(std::max(1000LL, rows / 100)) + ") AS n");
  // The devices as the merge keeps them (migration 0006 counts them the same
  // way), and 49 more tenants of a service provider, each as large.
  for (const char* table : {"software_inventory", "noncpe_software_inventory"})
    tx.exec("INSERT INTO " + s + ".device_presence (tenant, device_id, dataset, device_name, os_platform,"
            " rbac_group_name, software, first_seen_at)"
            " SELECT tenant, device_id, " + std::string(table[0] == 'n' ? "'noncpe'" : "'cpe'") +
            ", max(device_name), max(os_platform), max(rbac_group_name), count(*), min(first_synced_at)"
            " FROM " + s + "." + table + " GROUP BY tenant, device_id");
  tx.exec("INSERT INTO " + s + ".device_presence (tenant, device_id, dataset, device_name, os_platform,"
          " rbac_group_name, software, first_seen_at, gone_at)"
          " SELECT 'tenant-' || t, 'dev-' || d, ds, 'DEVICE-' || d, 'Windows11', 'group-' || (d % 20),"
          " CASE WHEN d % 50 = 0 THEN 0 ELSE 100 END, now() - interval '1 year',"
          " CASE WHEN d % 50 = 0 THEN now() - interval '1 day' END"
          " FROM generate_series(1, 49) AS t, generate_series(1, " + devices + ") AS d,"
          " unnest(ARRAY['cpe', 'noncpe']) AS ds");
  tx.exec("VACUUM ANALYZE " + s + ".device_presence");
  tx.exec("VACUUM ANALYZE " + s + ".software_inventory");
  tx.exec("VACUUM ANALYZE " + s + ".noncpe_software_inventory");
  tx.exec("VACUUM ANALYZE " + s + ".software_changes");
  tx.exec("VACUUM ANALYZE " + s + ".sync_runs");
  tx.exec("VACUUM ANALYZE " + s + ".sync_state");
}

class ViewsAtScale : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema = new TempSchema("scale");
    conn = new Connection(database_url());
    migrate(*conn, schema->name());
    s = "\"" + schema->name() + "\"";  // TempSchema names hold no quotes
    const auto rows = rows_wanted();
    const auto t0 = std::chrono::steady_clock::now();
    generate(*conn, s, rows);
    pqxx::nontransaction tx(*conn);
    std::cout << "[ views ] generated " << rows << " CPE rows in "
              << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0).count()
              << " s; " << tx.exec1("SELECT pg_size_pretty(pg_total_relation_size('" + s +
                                    ".software_inventory'))")[0].as<std::string>()
              << " with indexes\n";
  }
  static void TearDownTestSuite() {
    delete conn;
    delete schema;
  }

  // EXPLAIN ANALYZE of a query (as `role`, when given): prints the plan's verdict
  // and time, returns the plan text.
  std::string explain(const std::string& what, const std::string& sql, const std::string& role = {}) {
    pqxx::work tx(*conn);
    if (!role.empty()) tx.exec("SET LOCAL ROLE " + role);
    std::string plan;
    for (const auto& row : tx.exec("EXPLAIN (ANALYZE, BUFFERS) " + sql)) plan += row[0].as<std::string>() + "\n";
    const auto at = plan.find("Execution Time:");
    std::cout << "[ views ] " << what << ": " << plan.substr(at, plan.find('\n', at) - at) << "\n";
    if (std::getenv("MDESYNC_VIEWS_PLANS") != nullptr) std::cout << plan;
    return plan;
  }

  static void expect_no_inventory_scan(const std::string& plan) {
    EXPECT_EQ(plan.find("Seq Scan on software_inventory"), std::string::npos) << plan;
    EXPECT_EQ(plan.find("Seq Scan on noncpe_software_inventory"), std::string::npos) << plan;
  }

  static TempSchema* schema;
  static Connection* conn;
  static std::string s;
};

TempSchema* ViewsAtScale::schema = nullptr;
Connection* ViewsAtScale::conn = nullptr;
std::string ViewsAtScale::s;

TEST_F(ViewsAtScale, InventoryCurrentFindsASoftwareByIndexInBothDataSets) {
  const auto plan = explain("inventory_current by software",
                            "SELECT device_name, software_version FROM " + s +
                                ".inventory_current WHERE software_name IN ('product70', 'tool50')");
  expect_no_inventory_scan(plan);
  EXPECT_NE(plan.find("software_inventory_current_by_software"), std::string::npos) << plan;
  EXPECT_NE(plan.find("noncpe_software_inventory_current_by_software"), std::string::npos) << plan;
  expect_no_inventory_scan(explain("inventory_current of one device",
                                   "SELECT * FROM " + s +
                                       ".inventory_current WHERE tenant = 'contoso' AND device_id = 'dev-42'"));
}

TEST_F(ViewsAtScale, SoftwareCatalogOfOneSoftwareUsesTheIndex) {
  const auto plan = explain("software_catalog of one software",
                            "SELECT * FROM " + s + ".software_catalog WHERE software_name = 'product70'"
                            " ORDER BY version_rank");
  expect_no_inventory_scan(plan);
  EXPECT_NE(plan.find("Index Only Scan using software_inventory_current_by_software"), std::string::npos) << plan;
  explain("software_catalog, all of it (dashboard table)",
          "SELECT count(*), sum(devices) FROM " + s + ".software_catalog");
}

TEST_F(ViewsAtScale, EndOfSupportExposureReadsOnlyItsPartialIndex) {
  const auto plan = explain("end_of_support_exposure next 30 days",
                            "SELECT software_name, count(*) FROM " + s +
                                ".end_of_support_exposure WHERE end_of_support_date BETWEEN now() AND now() + "
                                "interval '30 days' GROUP BY 1");
  expect_no_inventory_scan(plan);
  EXPECT_NE(plan.find("software_inventory_end_of_support"), std::string::npos) << plan;
  // All of it: a tenth of the rows, spread over every page; a scan may rightly win.
  explain("end_of_support_exposure, all past, per group",
          "SELECT rbac_group_name, count(*) FROM " + s + ".end_of_support_exposure WHERE exposure = 'past' GROUP BY 1");
}

TEST_F(ViewsAtScale, DeviceWeaknessesReadsOnlyVulnerableRowsFromItsIndex) {
  const auto one = explain("device_weaknesses of one device",
                           "SELECT * FROM " + s + ".device_weaknesses WHERE tenant = 'contoso' AND device_id = 'dev-42'");
  expect_no_inventory_scan(one);
  EXPECT_NE(one.find("software_inventory_vulnerable_by_device"), std::string::npos) << one;
  const auto top = explain("device_weaknesses top 10",
                           "SELECT * FROM " + s + ".device_weaknesses ORDER BY weaknesses DESC LIMIT 10");
  expect_no_inventory_scan(top);
}

TEST_F(ViewsAtScale, SyncFreshnessAndRecentChangesAreIndexed) {
  const auto fresh = explain("sync_freshness", "SELECT * FROM " + s + ".sync_freshness");
  EXPECT_NE(fresh.find("sync_runs_tenant_dataset_started"), std::string::npos) << fresh;
  const auto week = explain("software_changes of the last 7 days",
                            "SELECT * FROM " + s + ".software_changes WHERE observed_at > now() - interval '7 days'");
  EXPECT_NE(week.find("software_changes_observed"), std::string::npos) << week;
}

TEST_F(ViewsAtScale, DevicesOfOneTenantReadOnlyThatTenantsEntries) {
  const auto plan = explain("devices of one tenant (1 of 50)",
                            "SELECT * FROM " + s + ".devices WHERE tenant = 'contoso' ORDER BY device_name");
  EXPECT_EQ(plan.find("Seq Scan on device_presence"), std::string::npos) << plan;
  EXPECT_NE(plan.find("device_presence_pkey"), std::string::npos) << plan;
  const auto one = explain("devices, one device",
                           "SELECT * FROM " + s + ".devices WHERE tenant = 'contoso' AND device_id = 'dev-42'");
  EXPECT_NE(one.find("device_presence_pkey"), std::string::npos) << one;
}

// A service provider's customer, restricted by row security to its tenant,
// still gets the index: the policy's subqueries run once, not per row.
TEST_F(ViewsAtScale, DevicesAndInventoryAsOfUseTheirIndexesUnderRowSecurity) {
  const std::string role = "mdesync_scale_" + std::to_string(::getpid());
  {
    pqxx::work tx(*conn);
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('mdesync.reader_role'))");
    tx.exec("CREATE ROLE " + role + " NOLOGIN IN ROLE mdesync_reader");
    tx.exec("INSERT INTO " + s + ".tenant_readers VALUES (" + tx.quote(role) + ", 'contoso')");
    tx.commit();
  }
  const auto devices = explain("devices of one tenant, as a reader restricted to it",
                               "SELECT * FROM " + s + ".devices WHERE tenant = 'contoso' ORDER BY device_name", role);
  const auto as_of = explain("inventory_as_of one device, as a reader restricted to its tenant",
                             "SELECT * FROM " + s + ".inventory_as_of(now() - interval '30 days')"
                             " WHERE tenant = 'contoso' AND device_id = 'dev-42'",
                             role);
  {
    pqxx::work tx(*conn);
    tx.exec("DELETE FROM " + s + ".tenant_readers");
    tx.exec("DROP ROLE " + role);
    tx.commit();
  }
  EXPECT_NE(devices.find("device_presence_pkey"), std::string::npos) << devices;
  expect_no_inventory_scan(as_of);
  EXPECT_NE(as_of.find("software_changes_device"), std::string::npos) << as_of;
}

TEST_F(ViewsAtScale, InventoryAsOfOneDeviceUsesTheKeysAndTheDevicesEvents) {
  const auto plan = explain("inventory_as_of 30 days ago, one device",
                            "SELECT * FROM " + s + ".inventory_as_of(now() - interval '30 days')"
                            " WHERE tenant = 'contoso' AND device_id = 'dev-42'");
  expect_no_inventory_scan(plan);
  EXPECT_EQ(plan.find("Seq Scan on software_changes"), std::string::npos) << plan;
  EXPECT_NE(plan.find("software_changes_device"), std::string::npos) << plan;
}

}  // namespace
}  // namespace mdesync::store
