// Migrations and the schema contract, against the real PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>
#include <pqxx/pqxx>

#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using testing::database_url;
using testing::TempSchema;

TEST(Migrations, ApplyOnceThenSecondRunIsANoOp) {
  TempSchema schema("mig");
  Connection conn(database_url());
  const auto first = migrate(conn, schema.name());
  EXPECT_EQ(first.applied, static_cast<int>(embedded_migrations().size()));
  EXPECT_EQ(schema_version(conn, schema.name()), latest_version());
  const auto second = migrate(conn, schema.name());
  EXPECT_EQ(second.applied, 0);
  pqxx::nontransaction tx(conn);
  const auto rows = tx.exec1("SELECT count(*) FROM \"" + schema.name() + "\".schema_migrations")[0].as<int>();
  EXPECT_EQ(rows, static_cast<int>(embedded_migrations().size()));
}

TEST(Migrations, SchemaVersionIsZeroBeforeMigrating) {
  TempSchema schema("mig");
  Connection conn(database_url());
  EXPECT_EQ(schema_version(conn, schema.name()), 0);
}

TEST(Migrations, WorkWithASchemaNameThatNeedsQuoting) {
  TempSchema schema("Mixed Case\"q");
  Connection conn(database_url());
  EXPECT_GT(migrate(conn, schema.name()).applied, 0);
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM information_schema.tables WHERE table_schema = " +
                     tx.quote(schema.name()) + " AND table_name = 'software_inventory'")[0]
                .as<int>(),
            1);
}

TEST(Migrations, ConcurrentRunsApplyEachMigrationOnce) {
  TempSchema schema("mig");
  std::vector<std::thread> threads;
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        Connection conn(database_url());
        applied += migrate(conn, schema.name()).applied;
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  // CREATE SCHEMA IF NOT EXISTS may race before the lock is taken; what matters
  // is that no migration ran twice and at least one run succeeded.
  EXPECT_EQ(applied.load(), static_cast<int>(embedded_migrations().size()));
  EXPECT_LT(failures.load(), 4);
}

// The column contract from the foundation issue: name -> data type.
using Columns = std::map<std::string, std::string>;

Columns columns_of(pqxx::connection_base& conn, const std::string& schema, const std::string& table) {
  pqxx::nontransaction tx(conn);
  Columns cols;
  for (const auto& r : tx.exec("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = " +
                               tx.quote(schema) + " AND table_name = " + tx.quote(table)))
    cols[r[0].as<std::string>()] = r[1].as<std::string>();
  return cols;
}

std::vector<std::string> primary_key_of(pqxx::connection_base& conn, const std::string& schema,
                                        const std::string& table) {
  pqxx::nontransaction tx(conn);
  std::vector<std::string> key;
  for (const auto& r : tx.exec(
           "SELECT k.column_name FROM information_schema.table_constraints c "
           "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name "
           "AND k.table_schema = c.table_schema AND k.table_name = c.table_name "
           "WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = " +
           tx.quote(schema) + " AND c.table_name = " + tx.quote(table) + " ORDER BY k.ordinal_position"))
    key.push_back(r[0].as<std::string>());
  return key;
}

const std::string tz = "timestamp with time zone";

TEST(SchemaContract, SoftwareInventoryMatches) {
  TempSchema schema("contract");
  Connection conn(database_url());
  migrate(conn, schema.name());
  const Columns expected = {
      {"tenant", "text"}, {"device_id", "text"}, {"rbac_group_name", "text"}, {"device_name", "text"},
      {"os_platform", "text"}, {"software_vendor", "text"}, {"software_name", "text"}, {"software_version", "text"},
      {"number_of_weaknesses", "integer"}, {"disk_paths", "ARRAY"}, {"registry_paths", "ARRAY"},
      {"software_first_seen_timestamp", tz}, {"end_of_support_status", "text"}, {"end_of_support_date", tz},
      {"first_synced_at", tz}, {"last_changed_at", tz}, {"removed_at", tz}};
  const auto actual = columns_of(conn, schema.name(), "software_inventory");
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(actual.count(name)) << "missing column " << name;
    EXPECT_EQ(actual.at(name), type) << name;
  }
  EXPECT_EQ(primary_key_of(conn, schema.name(), "software_inventory"),
            (std::vector<std::string>{"tenant", "device_id", "software_vendor", "software_name", "software_version"}));
}

TEST(SchemaContract, NonCpeSoftwareInventoryMatches) {
  TempSchema schema("contract");
  Connection conn(database_url());
  migrate(conn, schema.name());
  const Columns expected = {
      {"tenant", "text"}, {"device_id", "text"}, {"rbac_group_id", "integer"}, {"rbac_group_name", "text"},
      {"device_name", "text"}, {"os_platform", "text"}, {"software_vendor", "text"}, {"software_name", "text"},
      {"software_version", "text"}, {"software_last_seen_timestamp", tz}, {"first_synced_at", tz},
      {"last_changed_at", tz}, {"removed_at", tz}};
  const auto actual = columns_of(conn, schema.name(), "noncpe_software_inventory");
  for (const auto& [name, type] : expected) {
    ASSERT_TRUE(actual.count(name)) << "missing column " << name;
    EXPECT_EQ(actual.at(name), type) << name;
  }
  EXPECT_EQ(primary_key_of(conn, schema.name(), "noncpe_software_inventory"),
            (std::vector<std::string>{"tenant", "device_id", "software_vendor", "software_name", "software_version"}));
}

TEST(SchemaContract, SyncStateAndSyncRunsMatch) {
  TempSchema schema("contract");
  Connection conn(database_url());
  migrate(conn, schema.name());
  const auto state = columns_of(conn, schema.name(), "sync_state");
  for (const auto* c : {"tenant", "dataset", "watermark", "last_incremental_at", "last_full_at"})
    EXPECT_TRUE(state.count(c)) << "sync_state." << c;
  EXPECT_EQ(state.at("watermark"), tz);
  const auto runs = columns_of(conn, schema.name(), "sync_runs");
  for (const auto* c : {"tenant", "dataset", "mode", "started_at", "finished_at", "status", "rows_received",
                        "rows_upserted", "rows_removed", "rows_rejected", "error"})
    EXPECT_TRUE(runs.count(c)) << "sync_runs." << c;
  EXPECT_EQ(primary_key_of(conn, schema.name(), "sync_state"), (std::vector<std::string>{"tenant", "dataset"}));
}

}  // namespace
}  // namespace mdesync::store
