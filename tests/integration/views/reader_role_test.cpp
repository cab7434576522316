// mdesync_reader: reads every table and view of the schema, writes nothing; the
// migration creates it only when it may, and never fails for it.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using testing::database_url;
using testing::TempSchema;

const char* const readable[] = {"inventory_current", "software_catalog", "end_of_support_exposure",
                                "device_weaknesses", "sync_freshness",    "software_changes",
                                "software_inventory", "noncpe_software_inventory", "sync_state", "sync_runs"};

// Collects the server's notices on one connection.
class Notices : public pqxx::errorhandler {
 public:
  explicit Notices(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char msg[]) noexcept override {
    text += msg;
    return true;
  }
  std::string text;
};

TEST(ReaderRole, CreatedWithoutLoginAndCanSelectEveryViewButNotWrite) {
  TempSchema schema("reader");
  Connection conn(database_url());
  migrate(conn, schema.name());  // the test database user is a superuser: it may create the role
  pqxx::nontransaction tx(conn);
  EXPECT_EQ(tx.exec1("SELECT rolcanlogin::text FROM pg_roles WHERE rolname = 'mdesync_reader'")[0].as<std::string>(),
            "false");
  const std::string s = tx.quote_name(schema.name());
  tx.exec("SET ROLE mdesync_reader");
  for (const char* name : readable) EXPECT_NO_THROW(tx.exec("SELECT count(*) FROM " + s + "." + name)) << name;
  EXPECT_NO_THROW(tx.exec("SELECT " + s + ".version_sort_key('1.0')"));
  EXPECT_THROW(tx.exec("INSERT INTO " + s + ".sync_state (tenant, dataset) VALUES ('x', 'cpe')"),
               pqxx::insufficient_privilege);
  EXPECT_THROW(tx.exec("UPDATE " + s + ".software_inventory SET removed_at = now()"), pqxx::insufficient_privilege);
  EXPECT_THROW(tx.exec("DELETE FROM " + s + ".software_changes"), pqxx::insufficient_privilege);
  EXPECT_THROW(tx.exec("TRUNCATE " + s + ".sync_runs"), pqxx::insufficient_privilege);
  EXPECT_THROW(tx.exec("CREATE TABLE " + s + ".mine (x int)"), pqxx::insufficient_privilege);
  tx.exec("RESET ROLE");
}

TEST(ReaderRole, AMigratingUserWhoMayNotCreateRolesGetsANoticeNotAFailure) {
  // Without the role and as a user without CREATEROLE, in one transaction that is
  // rolled back: the role is cluster-wide and other tests may be using it. Holding
  // the migration's role lock keeps concurrent migrations out meanwhile.
  Connection conn(database_url());
  Notices notices(conn);
  pqxx::work tx(conn);
  const std::string user = "mdesync_limited_test";
  const std::string schema = "limited \"schema\"";
  const std::string s = tx.quote_name(schema);
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('mdesync.reader_role'))");
  if (tx.exec1("SELECT count(*) FROM pg_roles WHERE rolname = 'mdesync_reader'")[0].as<int>() == 1) {
    // A test running next to this one may create a table (a stage) between the
    // two statements, granted to the role by the schema's default privileges.
    for (int attempt = 1;; ++attempt) {
      try {
        pqxx::subtransaction drop(tx, "drop_reader");
        drop.exec("DROP OWNED BY mdesync_reader");
        drop.exec("DROP ROLE mdesync_reader");
        drop.commit();
        break;
      } catch (const pqxx::sql_error&) {
        if (attempt == 20) throw;
      }
    }
  }
  tx.exec("CREATE ROLE " + user + " NOLOGIN");
  tx.exec("CREATE SCHEMA " + s + " AUTHORIZATION " + user);
  tx.exec("SET LOCAL ROLE " + user);
  tx.exec("SET LOCAL search_path TO " + s);
  for (const auto& m : embedded_migrations()) EXPECT_NO_THROW(tx.exec(std::string(m.sql))) << m.name;
  EXPECT_NE(notices.text.find("role mdesync_reader does not exist and mdesync_limited_test may not create roles"),
            std::string::npos)
      << notices.text;
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_roles WHERE rolname = 'mdesync_reader'")[0].as<int>(), 0);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM " + s + ".inventory_current")[0].as<int>(), 0);
  tx.abort();
}

TEST(ReaderRole, AnExistingRoleIsGrantedByAUserWhoMayNotCreateRoles) {
  TempSchema schema("granted");
  {
    Connection admin(database_url());
    migrate(admin, schema.name() + "_setup");  // makes sure mdesync_reader exists
    pqxx::nontransaction tx(admin);
    tx.exec("DROP SCHEMA " + tx.quote_name(schema.name() + "_setup") + " CASCADE");
  }
  Connection conn(database_url());
  pqxx::work tx(conn);
  const std::string user = "mdesync_owner_test";
  const std::string s = tx.quote_name(schema.name());
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('mdesync.reader_role'))");
  tx.exec("CREATE ROLE " + user + " NOLOGIN");
  tx.exec("CREATE SCHEMA " + s + " AUTHORIZATION " + user);
  tx.exec("SET LOCAL ROLE " + user);
  tx.exec("SET LOCAL search_path TO " + s);
  for (const auto& m : embedded_migrations()) tx.exec(std::string(m.sql));
  tx.exec("RESET ROLE");
  EXPECT_TRUE(tx.exec1("SELECT has_table_privilege('mdesync_reader', " + tx.quote(s + ".device_weaknesses") +
                       ", 'SELECT') AND has_schema_privilege('mdesync_reader', " + tx.quote(schema.name()) +
                       ", 'USAGE') AND NOT has_table_privilege('mdesync_reader', " +
                       tx.quote(s + ".software_changes") + ", 'INSERT')")[0]
                  .as<bool>());
  // Later tables of the same owner are readable too (default privileges).
  tx.exec("SET LOCAL ROLE " + user);
  tx.exec("CREATE TABLE " + s + ".later (x int)");
  tx.exec("RESET ROLE");
  EXPECT_TRUE(tx.exec1("SELECT has_table_privilege('mdesync_reader', " + tx.quote(s + ".later") + ", 'SELECT')")[0]
                  .as<bool>());
  tx.abort();
}

}  // namespace
}  // namespace mdesync::store
