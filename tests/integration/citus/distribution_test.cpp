// database.distribution against a real Citus cluster (a coordinator and two
// workers) and a plain PostgreSQL: where each table goes, and that an
// installation holding rows is converted only when asked, with its rows.
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>
#include <string>

#include "store/connection.hpp"
#include "store/distribution.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using testing::citus_url;
using testing::database_url;
using testing::TempSchema;

// table name -> partmethod ('h' hash-distributed, 'n' reference) and colocation id.
std::map<std::string, std::pair<std::string, int>> placement(const std::string& schema) {
  pqxx::connection c(citus_url());
  pqxx::nontransaction tx(c);
  std::map<std::string, std::pair<std::string, int>> out;
  for (const auto& row : tx.exec_params(
           "SELECT c.relname, p.partmethod, p.colocationid FROM pg_dist_partition p"
           " JOIN pg_class c ON c.oid = p.logicalrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
           " WHERE n.nspname = $1",
           schema))
    out[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<int>()};
  return out;
}

std::string distribution_column(const std::string& schema, const std::string& table) {
  pqxx::connection c(citus_url());
  pqxx::nontransaction tx(c);
  return tx.exec1("SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE logicalrelid = " +
                  tx.quote(tx.quote_name(schema) + "." + tx.quote_name(table)) + "::regclass")[0]
      .as<std::string>();
}

TEST(Distribution, AutoDistributesANewSchemaButLeavesOneHoldingRowsPlainAndSaysWhy) {
  TempSchema fresh("auto", citus_url());
  Connection conn(citus_url());
  migrate(conn, fresh.name());
  auto result = distribute(conn, fresh.name(), DistributionChoice::automatic, false);
  EXPECT_TRUE(result.citus);
  EXPECT_EQ(result.changed.size(), 7u);
  EXPECT_TRUE(is_distributed(conn, fresh.name()));

  TempSchema old("auto_rows", citus_url());
  migrate(conn, old.name());
  {
    pqxx::work tx(conn);
    tx.exec("INSERT INTO \"" + old.name() + "\".sync_state (tenant, dataset) VALUES ('contoso', 'cpe')");
    tx.commit();
  }
  result = distribute(conn, old.name(), DistributionChoice::automatic, false);
  EXPECT_FALSE(result.citus);
  EXPECT_TRUE(result.changed.empty());
  EXPECT_NE(result.left_plain.find("sync_state"), std::string::npos) << result.left_plain;
  EXPECT_FALSE(is_distributed(conn, old.name()));
  // Asked (migrate --distribute), it converts.
  EXPECT_TRUE(distribute(conn, old.name(), DistributionChoice::automatic, true).citus);
  EXPECT_TRUE(is_distributed(conn, old.name()));
}

TEST(Distribution, ANewSchemaIsDistributedOnDeviceIdCoLocatedWithReferenceBookkeeping) {
  TempSchema schema("dist", citus_url());
  Connection conn(citus_url());
  migrate(conn, schema.name());
  const auto result = distribute(conn, schema.name(), DistributionChoice::citus, false);
  EXPECT_TRUE(result.citus);
  EXPECT_EQ(result.changed.size(), 7u);
  const auto tables = placement(schema.name());
  ASSERT_EQ(tables.size(), 7u);
  for (const char* t : {"software_inventory", "noncpe_software_inventory", "software_changes", "device_presence"}) {
    ASSERT_TRUE(tables.count(t)) << t;
    EXPECT_EQ(tables.at(t).first, "h") << t;
    EXPECT_EQ(tables.at(t).second, tables.at("software_inventory").second) << t << " is co-located";
    EXPECT_EQ(distribution_column(schema.name(), t), "device_id") << t;
  }
  for (const char* t : {"sync_state", "sync_runs", "snapshot_files"}) {
    ASSERT_TRUE(tables.count(t)) << t;
    EXPECT_EQ(tables.at(t).first, "n") << t << " is a reference table";
  }
  EXPECT_TRUE(is_distributed(conn, schema.name()));
  // Idempotent: a second migrate changes nothing.
  EXPECT_TRUE(distribute(conn, schema.name(), DistributionChoice::citus, false).changed.empty());
  // Per-tenant row security cannot be enforced on Citus: tenant_readers says so
  // instead of seeming to protect.
  pqxx::work tx(conn);
  try {
    tx.exec("INSERT INTO \"" + schema.name() + "\".tenant_readers VALUES ('some_role', 'contoso')");
    FAIL() << "tenant_readers took an entry Citus cannot enforce";
  } catch (const pqxx::check_violation& e) {
    EXPECT_NE(std::string(e.what()).find("tenant_readers_not_available_on_citus"), std::string::npos) << e.what();
  }
}

TEST(Distribution, AnInstallationRestrictingReadersPerTenantIsNotDistributed) {
  TempSchema schema("rls", citus_url());
  Connection conn(citus_url());
  migrate(conn, schema.name());
  {
    pqxx::work tx(conn);
    tx.exec("INSERT INTO \"" + schema.name() + "\".tenant_readers VALUES ('some_role', 'contoso')");
    tx.commit();
  }
  try {
    distribute(conn, schema.name(), DistributionChoice::citus, true);
    FAIL() << "distributed a schema whose tenant_readers Citus cannot enforce";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tenant_readers"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_distributed(conn, schema.name()));
}

TEST(Distribution, AnInstallationHoldingRowsIsConvertedOnlyWhenAskedAndKeepsItsRows) {
  TempSchema schema("conv", citus_url());
  Connection conn(citus_url());
  migrate(conn, schema.name());
  EXPECT_FALSE(distribute(conn, schema.name(), DistributionChoice::none, false).citus);
  const std::string s = "\"" + schema.name() + "\"";
  {
    pqxx::work tx(conn);
    tx.exec("INSERT INTO " + s + ".software_inventory (tenant, device_id, software_vendor, software_name,"
            " software_version, device_name) SELECT 'contoso', 'device-' || i, 'vendor', 'name', '1.0', 'host-' || i"
            " FROM generate_series(1, 500) i");
    tx.exec("INSERT INTO " + s + ".sync_state (tenant, dataset) VALUES ('contoso', 'cpe')");
    tx.commit();
  }
  try {
    distribute(conn, schema.name(), DistributionChoice::citus, false);
    FAIL() << "converted rows without being asked";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mdesync migrate --distribute"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(is_distributed(conn, schema.name()));
  const auto result = distribute(conn, schema.name(), DistributionChoice::citus, true);
  EXPECT_EQ(result.changed.size(), 7u);
  EXPECT_TRUE(is_distributed(conn, schema.name()));
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM " + s + ".software_inventory")[0].as<int>(), 500);
  EXPECT_EQ(tx.exec1("SELECT count(DISTINCT device_name) FROM " + s + ".software_inventory")[0].as<int>(), 500);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM " + s + ".sync_state")[0].as<int>(), 1);
  // The rows live in the shards, spread over both workers.
  EXPECT_EQ(tx.exec1("SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = " +
                     tx.quote(s + ".software_inventory") + "::regclass")[0]
                .as<int>(),
            2);
}

TEST(Distribution, ChoosingCitusWithoutTheExtensionFailsWithTheFixAndAutoStaysPlain) {
  TempSchema schema("plain");
  Connection conn(database_url());
  migrate(conn, schema.name());
  EXPECT_FALSE(distribute(conn, schema.name(), DistributionChoice::automatic, false).citus);
  EXPECT_FALSE(is_distributed(conn, schema.name()));
  try {
    distribute(conn, schema.name(), DistributionChoice::citus, false);
    FAIL() << "database.distribution: citus accepted a database without Citus";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("CREATE EXTENSION citus"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mdesync::store
