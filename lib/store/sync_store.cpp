#include "store/sync_store.hpp"

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "core/timestamp.hpp"
#include "store/copy_in.hpp"
#include "store/identifiers.hpp"
#include "store/merge_sql.hpp"

namespace mdesync::store {
namespace {

std::optional<SystemTime> as_time(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return parse_iso8601(f.c_str());
}

std::string page_stage_name(model::Dataset ds) {
  return std::string("pg_temp.") + quote_identifier("mdesync_page_" + std::string(model::spec(ds).name));
}

// Below this many new rows a table's statistics matter little either way.
constexpr std::uint64_t analyze_min_rows = 10'000;

bool needs_statistics(pqxx::work& tx, const std::string& table) {
  return tx.exec1("SELECT reltuples < 0 FROM pg_class WHERE oid = " + tx.quote(table) + "::regclass")[0].as<bool>();
}

}  // namespace

const char* to_string(RunMode m) { return m == RunMode::full ? "full" : "incremental"; }

const char* to_string(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::succeeded: return "succeeded";
    case RunStatus::failed: return "failed";
    case RunStatus::guarded: return "guarded";
    case RunStatus::abandoned: return "abandoned";
  }
  return "failed";
}

SyncStore::SyncStore(const std::string& database_url, std::string schema)
    : conn_(std::make_unique<Connection>(database_url)), schema_(std::move(schema)) {
  pqxx::nontransaction tx(*conn_);
  // Timestamps travel as ISO 8601 text; fix the session zone so output parses back as UTC.
  tx.exec("SET TIME ZONE 'UTC'");
  tx.exec("SET application_name = 'mdesync'");
}

SyncStore::~SyncStore() = default;

std::string SyncStore::target(model::Dataset ds) const { return qualified(schema_, model::spec(ds).table); }

std::string SyncStore::snapshot_stage(const std::string& tenant, model::Dataset ds) const {
  return qualified(schema_, "stage_" + std::string(model::spec(ds).name) + "_" + tenant);
}

bool SyncStore::try_lock(const std::string& tenant, model::Dataset ds) {
  pqxx::nontransaction tx(*conn_);
  const auto r = tx.exec_params1("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))", "mdesync.sync." + schema_,
                                 tenant + "/" + std::string(model::spec(ds).name));
  return r[0].as<bool>();
}

void SyncStore::unlock(const std::string& tenant, model::Dataset ds) {
  pqxx::nontransaction tx(*conn_);
  tx.exec_params("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", "mdesync.sync." + schema_,
                 tenant + "/" + std::string(model::spec(ds).name));
}

SyncState SyncStore::state(const std::string& tenant, model::Dataset ds) {
  pqxx::nontransaction tx(*conn_);
  const auto r = tx.exec_params(
      "SELECT watermark, last_incremental_at, last_full_at, snapshot_generated_at FROM " + qualified(schema_, "sync_state") +
          " WHERE tenant = $1 AND dataset = $2",
      tenant, std::string(model::spec(ds).name));
  SyncState s;
  if (r.empty()) return s;
  s.watermark = as_time(r[0][0]);
  s.last_incremental_at = as_time(r[0][1]);
  s.last_full_at = as_time(r[0][2]);
  s.snapshot_generated_at = as_time(r[0][3]);
  return s;
}

std::optional<RunRecord> SyncStore::last_run(const std::string& tenant, model::Dataset ds) {
  pqxx::nontransaction tx(*conn_);
  const auto r = tx.exec_params(
      "SELECT id, mode, status, started_at, finished_at, rows_received, rows_upserted, rows_removed, rows_rejected,"
      " coalesce(error, '') FROM " + qualified(schema_, "sync_runs") +
          " WHERE tenant = $1 AND dataset = $2 ORDER BY id DESC LIMIT 1",
      tenant, std::string(model::spec(ds).name));
  if (r.empty()) return std::nullopt;
  RunRecord rec;
  rec.id = r[0][0].as<std::int64_t>();
  rec.mode = r[0][1].as<std::string>();
  rec.status = r[0][2].as<std::string>();
  rec.started_at = as_time(r[0][3]);
  rec.finished_at = as_time(r[0][4]);
  rec.counts = {r[0][5].as<std::uint64_t>(), r[0][6].as<std::uint64_t>(), r[0][7].as<std::uint64_t>(),
                r[0][8].as<std::uint64_t>()};
  rec.error = r[0][9].as<std::string>();
  return rec;
}

std::int64_t SyncStore::begin_run(const std::string& tenant, model::Dataset ds, RunMode mode) {
  pqxx::work tx(*conn_);
  const std::string runs = qualified(schema_, "sync_runs");
  const std::string dataset(model::spec(ds).name);
  tx.exec_params("UPDATE " + runs +
                     " SET status = 'abandoned', finished_at = now(), error = 'the process running it stopped' "
                     "WHERE tenant = $1 AND dataset = $2 AND status = 'running'",
                 tenant, dataset);
  const auto r = tx.exec_params1(
      "INSERT INTO " + runs + " (tenant, dataset, mode) VALUES ($1, $2, $3) RETURNING id", tenant, dataset,
      std::string(to_string(mode)));
  tx.commit();
  return r[0].as<std::int64_t>();
}

void SyncStore::finish_run(std::int64_t run_id, RunStatus status, const RunCounts& c, const std::string& error,
                           const RunDetails& details) {
  pqxx::work tx(*conn_);
  const std::string generated =
      details.snapshot_generated_at ? format_iso8601_utc(*details.snapshot_generated_at) : std::string();
  tx.exec_params("UPDATE " + qualified(schema_, "sync_runs") +
                     " SET status = $2, finished_at = now(), rows_received = $3, rows_upserted = $4,"
                     " rows_removed = $5, rows_rejected = $6, error = $7,"
                     " snapshot_generated_at = $8::timestamptz, removals_held_back = $9 WHERE id = $1",
                 run_id, std::string(to_string(status)), c.received, c.upserted, c.removed, c.rejected,
                 error.empty() ? nullptr : error.c_str(), generated.empty() ? nullptr : generated.c_str(),
                 details.removals_held_back ? std::to_string(*details.removals_held_back).c_str() : nullptr);
  tx.commit();
}

namespace {

void advance_watermark(pqxx::work& tx, const std::string& schema, const std::string& tenant, model::Dataset ds,
                       const WatermarkUpdate& u) {
  const char* stamp = u.mode == RunMode::full ? "last_full_at" : "last_incremental_at";
  tx.exec_params("INSERT INTO " + qualified(schema, "sync_state") + " AS s (tenant, dataset, watermark, " + stamp +
                     ") VALUES ($1, $2, $3::timestamptz, now())"
                     " ON CONFLICT (tenant, dataset) DO UPDATE SET watermark = excluded.watermark, " +
                     stamp + " = now()",
                 tenant, std::string(model::spec(ds).name), format_iso8601_utc(u.watermark));
}

}  // namespace

bool SyncStore::has_baseline(pqxx::transaction_base& tx, const std::string& tenant, model::Dataset ds) {
  const std::string dataset(model::spec(ds).name);
  const std::string key = tenant + "/" + dataset;
  if (baselines_.count(key) != 0) return true;
  const bool found = tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + qualified(schema_, "sync_state") +
                                         " WHERE tenant = $1 AND dataset = $2)",
                                     tenant, dataset)[0]
                         .as<bool>();
  // Only remembered once true: a rolled-back first sync must not count.
  if (found) baselines_.insert(key);
  return found;
}

sql::ChangeLog SyncStore::change_log() const {
  return {qualified(schema_, "software_changes"), qualified(schema_, "version_sort_key")};
}

void SyncStore::ensure_page_stage(model::Dataset ds) {
  auto& ready = page_stage_ready_[ds == model::Dataset::cpe ? 0 : 1];
  if (ready) return;
  pqxx::nontransaction tx(*conn_);
  // ON COMMIT DELETE ROWS: each batch starts empty without a TRUNCATE round trip.
  tx.exec("CREATE TEMP TABLE IF NOT EXISTS " + page_stage_name(ds) +
          " (ord bigint GENERATED ALWAYS AS IDENTITY, " + sql::staging_columns(model::spec(ds)) +
          ") ON COMMIT DELETE ROWS");
  ready = true;
}

std::uint64_t SyncStore::upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                                      const std::optional<WatermarkUpdate>& advance,
                                      std::optional<std::int64_t> run_id) {
  ensure_page_stage(ds);
  const auto& spec = model::spec(ds);
  const std::string stage = page_stage_name(ds);
  pqxx::work tx(*conn_);
  std::uint64_t upserted = 0;
  if (!copy_text.empty()) {
    CopyIn copy(*conn_, sql::copy_from_stdin(stage, spec));
    copy.write(copy_text);
    copy.finish();
    if (has_baseline(tx, tenant, ds)) {
      const std::string run = run_id ? std::to_string(*run_id) : std::string();
      upserted = tx.exec_params1(sql::upsert_recording_changes(target(ds), stage, spec, change_log()),
                                 run_id ? run.c_str() : nullptr)[0]
                     .as<std::uint64_t>();
    } else {
      upserted = tx.exec(sql::upsert(target(ds), stage, spec)).affected_rows();
    }
  }
  if (advance) advance_watermark(tx, schema_, tenant, ds, *advance);
  tx.commit();
  return upserted;
}

void SyncStore::begin_snapshot(const std::string& tenant, model::Dataset ds) {
  const std::string stage = snapshot_stage(tenant, ds);
  pqxx::work tx(*conn_);
  tx.exec("DROP TABLE IF EXISTS " + stage);
  // Unlogged: staged rows cost no WAL, and a crash only loses what is re-downloaded anyway.
  tx.exec("CREATE UNLOGGED TABLE " + stage + " (ord bigint GENERATED ALWAYS AS IDENTITY, " +
          sql::staging_columns(model::spec(ds)) + ")");
  tx.commit();
}

void SyncStore::stage(const std::string& tenant, model::Dataset ds, std::string_view copy_text) {
  if (copy_text.empty()) return;
  pqxx::work tx(*conn_);
  CopyIn copy(*conn_, sql::copy_from_stdin(snapshot_stage(tenant, ds), model::spec(ds)));
  copy.write(copy_text);
  copy.finish();
  tx.commit();
}

SnapshotResult SyncStore::apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& o,
                                         std::optional<std::int64_t> run_id) {
  const auto& spec = model::spec(ds);
  const std::string stage = snapshot_stage(tenant, ds);
  const std::string tgt = target(ds);
  SnapshotResult result;
  pqxx::work tx(*conn_);
  tx.exec("ANALYZE " + stage);
  // Without statistics (a table never analyzed, e.g. a full sync right after the
  // first load, before autovacuum got to it) the planner expects one row and runs
  // the anti joins below as nested loops over the whole stage: quadratic time.
  if (needs_statistics(tx, tgt)) tx.exec("ANALYZE " + tgt);
  result.active_before =
      tx.exec_params1("SELECT count(*) FROM " + tgt + " WHERE tenant = $1 AND removed_at IS NULL", tenant)[0]
          .as<std::uint64_t>();
  result.removal_candidates =
      tx.exec_params1(sql::count_removal_candidates(tgt, stage, spec), tenant)[0].as<std::uint64_t>();
  result.guarded = !o.force && result.active_before > 0 &&
                   static_cast<double>(result.removal_candidates) >
                       o.max_removal_ratio * static_cast<double>(result.active_before);
  const bool remove = !result.guarded && result.removal_candidates > 0;
  const std::string removed_at = format_iso8601_utc(o.removed_at);
  if (has_baseline(tx, tenant, ds)) {
    // One statement merges, removes and records the changes, so an upgrade (one
    // version removed, another installed) can be told from a removal plus an install.
    const std::string run = run_id ? std::to_string(*run_id) : std::string();
    const char* run_param = run_id ? run.c_str() : nullptr;
    const auto r = remove ? tx.exec_params1(sql::apply_snapshot_recording_changes(tgt, stage, spec, change_log()),
                                            tenant, removed_at, run_param)
                          : tx.exec_params1(sql::upsert_recording_changes(tgt, stage, spec, change_log()), run_param);
    result.upserted = r[0].as<std::uint64_t>();
    result.removed = r[1].as<std::uint64_t>();
    result.changes = r[2].as<std::uint64_t>();
  } else {
    result.upserted = tx.exec(sql::upsert(tgt, stage, spec)).affected_rows();
    if (remove) result.removed = tx.exec_params(sql::mark_removed(tgt, stage, spec), tenant, removed_at).affected_rows();
  }
  advance_watermark(tx, schema_, tenant, ds, o.advance);
  if (o.snapshot_generated_at) {
    const std::string dataset(spec.name);
    tx.exec_params("UPDATE " + qualified(schema_, "sync_state") +
                       " SET snapshot_generated_at = $3::timestamptz WHERE tenant = $1 AND dataset = $2",
                   tenant, dataset, format_iso8601_utc(*o.snapshot_generated_at));
    tx.exec_params("DELETE FROM " + qualified(schema_, "snapshot_files") + " WHERE tenant = $1 AND dataset = $2",
                   tenant, dataset);
  }
  tx.exec("DROP TABLE " + stage);
  // The table grew by more than half: refresh its statistics now rather than
  // leave the next sync's plans to stale ones.
  if (result.upserted > result.active_before / 2 + analyze_min_rows) tx.exec("ANALYZE " + tgt);
  tx.commit();
  return result;
}

void SyncStore::discard_snapshot(const std::string& tenant, model::Dataset ds) {
  pqxx::work tx(*conn_);
  tx.exec("DROP TABLE IF EXISTS " + snapshot_stage(tenant, ds));
  tx.exec_params("DELETE FROM " + qualified(schema_, "snapshot_files") + " WHERE tenant = $1 AND dataset = $2",
                 tenant, std::string(model::spec(ds).name));
  tx.commit();
}

std::set<std::string> SyncStore::resume_snapshot(const std::string& tenant, model::Dataset ds, SystemTime generated) {
  const std::string dataset(model::spec(ds).name);
  std::set<std::string> files;
  {
    pqxx::nontransaction tx(*conn_);
    const bool stage_exists =
        tx.exec1("SELECT to_regclass(" + tx.quote(snapshot_stage(tenant, ds)) + ") IS NOT NULL")[0].as<bool>();
    if (stage_exists) {
      for (const auto& row : tx.exec_params("SELECT file FROM " + qualified(schema_, "snapshot_files") +
                                                " WHERE tenant = $1 AND dataset = $2 AND generated_at = $3::timestamptz",
                                            tenant, dataset, format_iso8601_utc(generated)))
        files.insert(row[0].as<std::string>());
    }
  }
  if (!files.empty()) return files;
  // Another snapshot's leftovers (or none): start clean.
  pqxx::work tx(*conn_);
  tx.exec_params("DELETE FROM " + qualified(schema_, "snapshot_files") + " WHERE tenant = $1 AND dataset = $2",
                 tenant, dataset);
  tx.commit();
  begin_snapshot(tenant, ds);
  return files;
}

}  // namespace mdesync::store
