// SyncStore's session, names and baseline; its other parts are in
// run_journal.cpp, page_transaction.cpp and snapshot_lifecycle.cpp.
#include "store/sync_store.hpp"

#include <pqxx/nontransaction>

#include "core/timestamp.hpp"
#include "store/connection.hpp"
#include "store/conninfo.hpp"
#include "store/distribution.hpp"
#include "store/identifiers.hpp"
#include "store/sync_store_parts.hpp"

namespace mdesync::store {

std::optional<SystemTime> as_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return parse_iso8601(f.c_str());
}

std::string tenant_dataset(const std::string& tenant, model::Dataset ds) {
  return tenant + "/" + std::string(model::spec(ds).name);
}

bool has_baseline(pqxx::transaction_base& tx, const std::string& schema, std::set<std::string>& known,
                  const std::string& tenant, model::Dataset ds) {
  const std::string key = tenant_dataset(tenant, ds);
  if (known.count(key) != 0) return true;
  const bool found = tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + qualified(schema, "sync_state") +
                                         " WHERE tenant = $1 AND dataset = $2)",
                                     tenant, std::string(model::spec(ds).name))[0]
                         .as<bool>();
  if (found) known.insert(key);
  return found;
}

std::string transaction_time(pqxx::transaction_base& tx) {
  return tx.exec1("SELECT quote_literal(now())")[0].as<std::string>() + "::timestamptz";
}

void create_stage(pqxx::transaction_base& tx, const std::string& stage, model::Dataset ds, const std::string& target,
                  bool citus) {
  tx.exec("CREATE UNLOGGED TABLE " + stage + " (ord bigint GENERATED ALWAYS AS IDENTITY, " +
          sql::staging_columns(model::spec(ds)) + ")");
  if (!citus) return;
  tx.exec("SELECT create_distributed_table(" + tx.quote(stage) + ", 'device_id', colocate_with => " +
          tx.quote(target) + ")");
}

sql::ChangeLog change_log(const std::string& schema) {
  return {qualified(schema, "software_changes"), qualified(schema, "version_sort_key"),
          qualified(schema, "device_presence"), qualified(schema, "sync_state")};
}

namespace {

// See notify_changes in sync_store_parts.hpp; `kinds` is the merge's json column.
void notify_changes(pqxx::transaction_base& tx, const std::string& schema, const std::string& tenant,
                    model::Dataset ds, const char* run_id, const pqxx::field& kinds) {
  // now(): the transaction time, which is every event's observed_at. The
  // payload stays far below NOTIFY's 8000 bytes: seven kinds at most.
  tx.exec_params("SELECT pg_notify($1, json_build_object('schema', $2::text, 'tenant', $3::text, 'dataset', $4::text,"
                 " 'run_id', $5::bigint, 'observed_at', now(), 'changes', $6::json)::text)",
                 std::string(changes_channel), schema, tenant, std::string(model::spec(ds).name), run_id,
                 kinds.c_str());
}

}  // namespace

MergeCounts merge_rows(pqxx::transaction_base& tx, const std::string& schema, const std::string& stage,
                       const std::string& tenant, model::Dataset ds, const sql::MergeSteps& steps,
                       const std::string& removed_at, std::optional<std::int64_t> run_id) {
  const auto& spec = model::spec(ds);
  sql::MergeSteps timed = steps;
  timed.now = transaction_time(tx);
  const std::string statement = sql::merge(qualified(schema, spec.table), stage, spec, change_log(schema), timed);
  const std::string run = run_id ? std::to_string(*run_id) : std::string();
  const char* run_param = run_id ? run.c_str() : nullptr;
  // The parameters merge() numbers: tenant and removed_at with `remove`, then the run with `events`.
  const pqxx::row r = steps.remove ? (steps.events ? tx.exec_params1(statement, tenant, removed_at, run_param)
                                                   : tx.exec_params1(statement, tenant, removed_at))
                                   : (steps.events ? tx.exec_params1(statement, run_param) : tx.exec1(statement));
  MergeCounts m{r[0].as<std::uint64_t>(), r[1].as<std::uint64_t>(), r[2].as<std::uint64_t>()};
  if (m.changes > 0) notify_changes(tx, schema, tenant, ds, run_param, r[3]);
  return m;
}

void advance_watermark(pqxx::work& tx, const std::string& schema, const std::string& tenant, model::Dataset ds,
                       const WatermarkUpdate& u) {
  const char* stamp = u.mode == RunMode::full ? "last_full_at" : "last_incremental_at";
  tx.exec_params("INSERT INTO " + qualified(schema, "sync_state") + " AS s (tenant, dataset, watermark, " + stamp +
                     ") VALUES ($1, $2, $3::timestamptz, now())"
                     " ON CONFLICT (tenant, dataset) DO UPDATE SET watermark = excluded.watermark, " +
                     stamp + " = excluded." + stamp,
                 tenant, std::string(model::spec(ds).name), format_iso8601_utc(u.watermark));
}


SyncStore::SyncStore(const std::string& database_url, std::string schema)
    : conn_(std::make_unique<Connection>(database_url)), schema_(std::move(schema)) {
  const auto op = conn_->operation("setting up the session", short_operation);
  pqxx::nontransaction tx(*conn_);
  // The server's side of the keepalives: a backend whose client vanished (and
  // with it the session's advisory locks) goes away within about a minute
  // instead of the kernel's two hours. Ignored on Unix sockets.
  tx.exec("SET tcp_keepalives_idle = " + std::to_string(keepalives_idle_seconds) +
          "; SET tcp_keepalives_interval = " + std::to_string(keepalives_interval_seconds) +
          "; SET tcp_keepalives_count = " + std::to_string(keepalives_count) +
          "; SET tcp_user_timeout = " + std::to_string(tcp_user_timeout_ms));
  // Timestamps travel as ISO 8601 text; fix the session zone so output parses back as UTC.
  tx.exec("SET TIME ZONE 'UTC'");
  tx.exec("SET application_name = 'mdesync'");
}

SyncStore::~SyncStore() = default;

void SyncStore::attach(StallWatch* watch) { conn_->attach(watch); }

std::optional<std::string> SyncStore::gave_up() const { return conn_->gave_up(); }

std::string SyncStore::target(model::Dataset ds) const { return qualified(schema_, model::spec(ds).table); }

bool SyncStore::on_citus() {
  if (!citus_) {
    const auto op = conn_->operation("asking whether the schema is distributed", short_operation);
    citus_ = is_distributed(*conn_, schema_);
  }
  return *citus_;
}

std::string SyncStore::snapshot_stage(const std::string& tenant, model::Dataset ds) const {
  return qualified(schema_, stage_table(model::spec(ds).name, tenant));
}

}  // namespace mdesync::store
