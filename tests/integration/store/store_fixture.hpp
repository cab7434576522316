#pragma once
// A SyncStore on a fresh, migrated schema of the test database, for the store's
// integration tests.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <memory>
#include <string>

#include "store/connection.hpp"
#include "store/distribution.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {

class StoreFixture : public ::testing::Test {
 protected:
  explicit StoreFixture(const char* schema_prefix) : schema(schema_prefix) {}
  void SetUp() override {
    store = std::make_unique<SyncStore>(testing::database_url(), schema.name());
    migrate(store->connection(), schema.name());
    // As every sync does (database.distribution: auto): on Citus, distributed.
    const auto d = distribute(store->connection(), schema.name(), DistributionChoice::automatic, false);
    ASSERT_EQ(d.citus, testing::on_citus_backend());
  }
  // The first column of the single row `sql` returns; NULL as "".
  std::string scalar(const std::string& sql) {
    pqxx::nontransaction tx(store->connection());
    const auto r = tx.exec1(sql);
    return r[0].is_null() ? "" : r[0].as<std::string>();
  }
  std::string table() const { return "\"" + schema.name() + "\".noncpe_software_inventory"; }

  testing::TempSchema schema;
  std::unique_ptr<SyncStore> store;
};

}  // namespace mdesync::store
