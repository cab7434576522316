// Per-tenant row security: a member of a role listed in tenant_readers sees only
// its tenants' rows, through every table, view and inventory_as_of; mdesync_reader
// keeps seeing every tenant; nobody of them writes. And what migration 0006
// promises of its objects: every view reads as the person asking, every new
// object has a comment.
#include <gtest/gtest.h>

#include <unistd.h>

#include <pqxx/pqxx>

#include <random>

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

std::string noncpe(const std::string& tenant, const std::string& device) {
  return tenant + "\t" + device + "\t11\tLondon\tname-" + device + "\tWindows11\tacme\ttool\t1.0\t\\N\t\\N\n";
}
std::string cpe(const std::string& tenant, const std::string& device, const std::string& version) {
  // Vulnerable and past its end of support, so every view has rows of each tenant.
  return tenant + "\t" + device + "\tLondon\tname-" + device + "\tWindows11\tacme\toffice\t" + version +
         "\t3\t\\N\t\\N\t\\N\tEOS Version\t2023-01-01 00:00:00+00\t\\N\n";
}

// Everything a reader may select, each with the tenant column it shows.
const char* const tenant_objects[] = {
    "software_inventory", "noncpe_software_inventory", "software_changes", "device_presence", "sync_state",
    "sync_runs",          "inventory_current",         "software_catalog", "end_of_support_exposure",
    "device_weaknesses",  "sync_freshness",            "devices",          "inventory_as_of(now())"};

class TenantSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::make_unique<SyncStore>(database_url(), schema.name());
    migrate(store->connection(), schema.name());
    // Two tenants with a baseline, then a change each, so every object has rows of both.
    for (const std::string t : {"north", "south"}) {
      sync(t, Dataset::noncpe, noncpe(t, t + "-1") + noncpe(t, t + "-2"));
      sync(t, Dataset::noncpe, noncpe(t, t + "-1"));
      sync(t, Dataset::cpe, cpe(t, t + "-1", "1.0"));
      sync(t, Dataset::cpe, cpe(t, t + "-1", "2.0"));
    }
    std::random_device rd;
    const std::string suffix = std::to_string(::getpid()) + "_" + std::to_string(rd() % 1000000);
    north = "mdesync_north_" + suffix;
    south = "mdesync_south_" + suffix;
    dashboard = "mdesync_dash_" + suffix;
    pqxx::work tx(store->connection());
    // Roles belong to the cluster: the lock migrations and the reader role's tests take.
    tx.exec("SELECT pg_advisory_xact_lock(hashtext('mdesync.reader_role'))");
    for (const auto& role : {north, south, dashboard}) {
      tx.exec("CREATE ROLE " + role + " NOLOGIN");
      tx.exec("GRANT mdesync_reader TO " + role);
    }
    // A user who is a member of a listed role is restricted through it.
    tx.exec("GRANT " + north + " TO " + dashboard);
    tx.exec("INSERT INTO " + s("tenant_readers") + " (role, tenant) VALUES (" + tx.quote(north) + ", 'north'), (" +
            tx.quote(south) + ", 'south')");
    tx.commit();
  }
  void TearDown() override {
    pqxx::nontransaction tx(store->connection());
    for (const auto& role : {dashboard, north, south})
      if (!role.empty()) tx.exec("DROP ROLE IF EXISTS " + role);
  }

  void sync(const std::string& tenant, Dataset ds, const std::string& rows) {
    const auto run = store->begin_run(tenant, ds, RunMode::full);
    store->begin_snapshot(tenant, ds);
    store->stage(tenant, ds, rows);
    SnapshotOptions o;
    o.removed_at = parse_iso8601("2024-03-01T10:00:00Z").value();
    o.force = true;
    o.advance = {o.removed_at, RunMode::full};
    store->apply_snapshot(tenant, ds, o, run);
    store->finish_run(run, RunStatus::succeeded, {}, "");
  }

  // The tenants `role` sees in `object`, as "north south".
  std::string tenants_seen(const std::string& role, const std::string& object) {
    pqxx::work tx(store->connection());
    tx.exec("SET LOCAL ROLE " + role);
    const auto r = tx.exec1("SELECT coalesce(string_agg(DISTINCT tenant, ' ' ORDER BY tenant), '') FROM " + s(object));
    return r[0].as<std::string>();
  }

  std::string s(const std::string& object) const { return "\"" + schema.name() + "\"." + object; }

  TempSchema schema{"tenants"};
  std::unique_ptr<SyncStore> store;
  std::string north, south, dashboard;
};

TEST_F(TenantSecurity, EachListedRoleSeesOnlyItsTenantsAndTheReaderSeesAll) {
  for (const char* object : tenant_objects) {
    SCOPED_TRACE(object);
    EXPECT_EQ(tenants_seen(north, object), "north");
    EXPECT_EQ(tenants_seen(south, object), "south");
    EXPECT_EQ(tenants_seen(dashboard, object), "north");
    EXPECT_EQ(tenants_seen("mdesync_reader", object), "north south");
  }
  // The list itself: each role sees its own entries only.
  pqxx::work tx(store->connection());
  tx.exec("SET LOCAL ROLE " + south);
  EXPECT_EQ(tx.exec1("SELECT string_agg(tenant, ' ') FROM " + s("tenant_readers"))[0].as<std::string>(), "south");
}

TEST_F(TenantSecurity, NeitherRoleNorTheReaderMayWrite) {
  for (const auto& role : {north, south, std::string("mdesync_reader")}) {
    for (const std::string& sql :
         {"INSERT INTO " + s("software_changes") +
              " (tenant, dataset, device_id, software_vendor, software_name, change) VALUES"
              " ('north', 'cpe', 'x', 'v', 'n', 'installed')",
          "UPDATE " + s("software_inventory") + " SET removed_at = now()",
          "DELETE FROM " + s("noncpe_software_inventory"), "DELETE FROM " + s("device_presence"),
          "INSERT INTO " + s("tenant_readers") + " VALUES ('" + role + "', 'south')",
          "DELETE FROM " + s("tenant_readers"), "UPDATE " + s("sync_state") + " SET watermark = now()"}) {
      SCOPED_TRACE(role + ": " + sql);
      pqxx::work tx(store->connection());
      tx.exec("SET LOCAL ROLE " + role);
      EXPECT_THROW(tx.exec(sql), pqxx::insufficient_privilege);
    }
  }
}

TEST_F(TenantSecurity, EveryViewReadsAsThePersonAskingAndNewObjectsAreDocumented) {
  pqxx::nontransaction tx(store->connection());
  const std::string ns = tx.quote(schema.name());
  EXPECT_EQ(tx.exec1("SELECT coalesce(string_agg(c.relname, ' '), '') FROM pg_class c JOIN pg_namespace n"
                     " ON n.oid = c.relnamespace WHERE n.nspname = " + ns + " AND c.relkind = 'v'"
                     " AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)")[0]
                .as<std::string>(),
            "");
  // Row security on every table that holds a tenant's rows.
  EXPECT_EQ(tx.exec1("SELECT coalesce(string_agg(c.relname, ' ' ORDER BY c.relname), '') FROM pg_class c"
                     " JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid"
                     " WHERE n.nspname = " + ns + " AND c.relkind = 'r' AND a.attname = 'tenant'"
                     " AND c.relname NOT LIKE 'stage\\_%' AND NOT c.relrowsecurity")[0]
                .as<std::string>(),
            "");
  for (const std::string object : {"device_presence", "devices", "tenant_readers"})
    EXPECT_FALSE(tx.exec1("SELECT obj_description(" + tx.quote(s(object)) + "::regclass, 'pg_class')")[0].is_null())
        << object;
  EXPECT_FALSE(tx.exec1("SELECT obj_description(" + tx.quote(s("inventory_as_of(timestamptz)")) +
                        "::regprocedure, 'pg_proc')")[0]
                   .is_null());
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n"
                     " ON n.oid = c.relnamespace WHERE n.nspname = " + ns +
                     " AND obj_description(p.oid, 'pg_policy') IS NULL")[0]
                .as<int>(),
            0);
}

}  // namespace
}  // namespace mdesync::store
