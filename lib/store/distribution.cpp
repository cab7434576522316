#include "store/distribution.hpp"

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include <algorithm>
#include <stdexcept>

#include "model/dataset.hpp"
#include "store/identifiers.hpp"

namespace mdesync::store {
namespace {

// The table every distributed table is co-located with.
std::string anchor(const std::string& schema) {
  return qualified(schema, model::spec(model::Dataset::cpe).table);
}

std::vector<std::string> distributed_tables(const std::string& schema) {
  return {anchor(schema), qualified(schema, model::spec(model::Dataset::noncpe).table),
          qualified(schema, "software_changes"), qualified(schema, "device_presence")};
}

std::vector<std::string> reference_tables(const std::string& schema) {
  return {qualified(schema, "sync_state"), qualified(schema, "sync_runs"), qualified(schema, "snapshot_files")};
}

bool has_citus(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')")[0].as<bool>();
}

// 'h' (hash-distributed), 'n' (reference), or "" when Citus does not know it.
std::string citus_method(pqxx::transaction_base& tx, const std::string& table) {
  const auto r = tx.exec("SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = to_regclass(" +
                         tx.quote(table) + ")");
  return r.empty() ? std::string() : r[0][0].as<std::string>();
}

bool has_rows(pqxx::transaction_base& tx, const std::string& table) {
  return tx.exec1("SELECT EXISTS (SELECT 1 FROM " + table + ")")[0].as<bool>();
}

// Per-tenant row security (tenant_readers, migration 0006) decides with
// subqueries, which Citus refuses in policies on distributed tables, and a
// function reading tenant_readers from a shard would be a nested distributed
// query. So on Citus the policies go, and tenant_readers refuses entries (a
// constraint whose name says why) rather than seem to protect what it cannot.
// An installation with entries is not distributed.
void drop_tenant_row_security(pqxx::transaction_base& tx, const std::string& schema) {
  const std::string readers = qualified(schema, "tenant_readers");
  if (tx.exec1("SELECT to_regclass(" + tx.quote(readers) + ") IS NULL")[0].as<bool>()) return;
  if (has_rows(tx, readers))
    throw std::runtime_error(
        "schema " + schema + " restricts readers per tenant (tenant_readers has entries), which Citus cannot "
        "enforce: its policies need subqueries Citus refuses on distributed tables; fix: keep "
        "database.distribution: none, or remove the entries first");
  for (const auto& row : tx.exec_params("SELECT c.oid::regclass::text, p.polname FROM pg_policy p"
                                        " JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid ="
                                        " c.relnamespace WHERE n.nspname = $1",
                                        schema)) {
    tx.exec("DROP POLICY " + quote_identifier(row[1].as<std::string>()) + " ON " + row[0].as<std::string>());
    tx.exec("ALTER TABLE " + row[0].as<std::string>() + " DISABLE ROW LEVEL SECURITY");
  }
  if (tx.exec1("SELECT NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = " + tx.quote(readers) +
              "::regclass AND conname = 'tenant_readers_not_available_on_citus')")[0]
          .as<bool>())
    tx.exec("ALTER TABLE " + readers + " ADD CONSTRAINT tenant_readers_not_available_on_citus CHECK (false)");
}

}  // namespace

DistributionResult distribute(pqxx::connection_base& conn, const std::string& schema, DistributionChoice choice,
                              bool convert_existing) {
  DistributionResult result;
  if (choice == DistributionChoice::none) return result;
  pqxx::work tx(conn);
  if (!has_citus(tx)) {
    if (choice == DistributionChoice::citus)
      throw std::runtime_error(
          "database.distribution is citus, but the database has no citus extension; fix: CREATE EXTENSION citus "
          "(on a node with shared_preload_libraries = 'citus'), or set database.distribution: none");
    return result;
  }
  result.citus = true;
  // The same lock as the migrations: two instances starting at once convert once.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext('mdesync.migrate'), hashtext($1))", schema);
  std::vector<std::string> pending;
  for (const auto& table : distributed_tables(schema))
    if (citus_method(tx, table).empty()) pending.push_back(table);
  for (const auto& table : reference_tables(schema))
    if (citus_method(tx, table).empty()) pending.push_back(table);
  if (pending.empty()) return result;
  std::vector<std::string> holding_rows;
  for (const auto& table : pending)
    if (has_rows(tx, table)) holding_rows.push_back(table);
  if (!holding_rows.empty() && !convert_existing && choice == DistributionChoice::automatic) {
    // An installation from before Citus came to its database keeps working as it is.
    result.citus = false;
    result.left_plain = holding_rows.front();
    return result;
  }
  if (!holding_rows.empty() && !convert_existing)
    throw std::runtime_error("schema " + schema + " holds rows in " + holding_rows.front() +
                             " that are not distributed yet; converting copies every row to the workers, so it is "
                             "done only when asked; fix: mdesync migrate --distribute --config FILE");
  // Several shards written in one transaction: over one connection per worker.
  tx.exec("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'");
  drop_tenant_row_security(tx, schema);
  const auto distributed = distributed_tables(schema);
  for (const auto& table : pending) {
    if (std::find(distributed.begin(), distributed.end(), table) == distributed.end()) {
      tx.exec("SELECT create_reference_table(" + tx.quote(table) + ")");
    } else {
      if (table == qualified(schema, "software_changes")) {
        // A distributed table's unique keys include its distribution column.
        tx.exec("ALTER TABLE " + table + " DROP CONSTRAINT software_changes_pkey, ADD PRIMARY KEY (device_id, id)");
      }
      const std::string colocate = table == anchor(schema) ? "'default'" : tx.quote(anchor(schema));
      tx.exec("SELECT create_distributed_table(" + tx.quote(table) + ", 'device_id', colocate_with => " + colocate +
              ")");
    }
    // The rows now live in the shards; the coordinator's own copy only takes space.
    if (std::find(holding_rows.begin(), holding_rows.end(), table) != holding_rows.end())
      tx.exec("SELECT truncate_local_data_after_distributing_table(" + tx.quote(table) + ")");
    result.changed.push_back(table);
  }
  tx.commit();
  return result;
}

bool is_distributed(pqxx::connection_base& conn, const std::string& schema) {
  pqxx::nontransaction tx(conn);
  if (!has_citus(tx)) return false;
  return citus_method(tx, anchor(schema)) == "h";
}

}  // namespace mdesync::store
