#include "store/migrations.hpp"

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include <set>

#include "store/identifiers.hpp"

namespace mdesync::store {

int latest_version() {
  int v = 0;
  for (const auto& m : embedded_migrations()) v = std::max(v, m.version);
  return v;
}

MigrationResult migrate(pqxx::connection_base& conn, const std::string& schema) {
  pqxx::work tx(conn, "migrate");
  // One lock for every instance and schema: migrations are rare and quick.
  tx.exec("SELECT pg_advisory_xact_lock(hashtext('mdesync.migrate'), hashtext(" + tx.quote(schema) + "))");
  const std::string quoted = quote_identifier(schema);
  // Even CREATE SCHEMA IF NOT EXISTS needs CREATE on the database; a role that
  // only owns its (existing) schema must be able to migrate it.
  if (!tx.exec_params1("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema)[0].as<bool>())
    tx.exec("CREATE SCHEMA " + quoted);
  tx.exec("SET LOCAL search_path TO " + quoted);
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  std::set<int> done;
  for (const auto& row : tx.exec("SELECT version FROM schema_migrations")) done.insert(row[0].as<int>());

  MigrationResult result;
  for (const auto& m : embedded_migrations()) {
    if (done.count(m.version) != 0) continue;
    tx.exec(std::string(m.sql), std::string(m.name));
    tx.exec("INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(m.version) + ", " +
            tx.quote(std::string(m.name)) + ")");
    ++result.applied;
  }
  tx.commit();
  result.version = latest_version();
  return result;
}

int schema_version(pqxx::connection_base& conn, const std::string& schema) {
  pqxx::nontransaction tx(conn);
  const auto exists = tx.exec1("SELECT to_regclass(" + tx.quote(quote_identifier(schema) + ".schema_migrations") +
                               ") IS NOT NULL");
  if (!exists[0].as<bool>()) return 0;
  const auto r = tx.exec1("SELECT coalesce(max(version), 0) FROM " + qualified(schema, "schema_migrations"));
  return r[0].as<int>();
}

}  // namespace mdesync::store
