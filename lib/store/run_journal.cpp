// SyncStore's journal: the sync lock, sync_state and sync_runs.
#include "store/sync_store.hpp"

#include <pqxx/nontransaction>
#include <pqxx/transaction>

#include "core/json_escape.hpp"
#include "core/timestamp.hpp"
#include "store/connection.hpp"
#include "store/identifiers.hpp"
#include "store/sync_store_parts.hpp"

namespace mdesync::store {

bool SyncStore::try_lock(const std::string& tenant, model::Dataset ds) {
  const auto op = conn_->operation("taking the sync lock", short_operation);
  pqxx::nontransaction tx(*conn_);
  const auto r = tx.exec_params1("SELECT pg_try_advisory_lock(hashtext($1), hashtext($2))", "mdesync.sync." + schema_,
                                 tenant + "/" + std::string(model::spec(ds).name));
  return r[0].as<bool>();
}

void SyncStore::unlock(const std::string& tenant, model::Dataset ds) {
  const auto op = conn_->operation("releasing the sync lock", short_operation);
  pqxx::nontransaction tx(*conn_);
  tx.exec_params("SELECT pg_advisory_unlock(hashtext($1), hashtext($2))", "mdesync.sync." + schema_,
                 tenant + "/" + std::string(model::spec(ds).name));
}

SyncState SyncStore::state(const std::string& tenant, model::Dataset ds) {
  const auto op = conn_->operation("reading the sync state", short_operation);
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
  const auto op = conn_->operation("reading the last run", short_operation);
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
  const auto op = conn_->operation("recording the run's start", short_operation);
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

namespace {

// JSON string contents jsonb accepts: it refuses \u0000, so a NUL byte becomes U+FFFD.
void append_jsonb_escaped(std::string& out, std::string_view s) {
  std::string clean(s);
  for (std::size_t at; (at = clean.find('\0')) != std::string::npos;) clean.replace(at, 1, "\xEF\xBF\xBD");
  append_json_escaped(out, clean);
}

// {"name": count, ...}, NULL when empty.
std::string undocumented_json(const std::map<std::string, std::uint64_t>& fields) {
  if (fields.empty()) return {};
  std::string out = "{";
  for (const auto& [name, count] : fields) {
    if (out.size() > 1) out.push_back(',');
    out.push_back('"');
    append_jsonb_escaped(out, name);
    out.append("\":").append(std::to_string(count));
  }
  return out + "}";
}

// [{"where": ..., "reason": ...}, ...], NULL when empty.
std::string rejections_json(const std::vector<RejectionNote>& notes) {
  if (notes.empty()) return {};
  std::string out = "[";
  for (const auto& n : notes) {
    if (out.size() > 1) out.push_back(',');
    out.append("{\"where\":\"");
    append_jsonb_escaped(out, n.where);
    out.append("\",\"reason\":\"");
    append_jsonb_escaped(out, n.reason);
    out.append("\"}");
  }
  return out + "]";
}

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

void SyncStore::finish_run(std::int64_t run_id, RunStatus status, const RunCounts& c, const std::string& error,
                           const RunDetails& details) {
  const auto op = conn_->operation("recording the run's end", short_operation);
  pqxx::work tx(*conn_);
  const std::string generated =
      details.snapshot_generated_at ? format_iso8601_utc(*details.snapshot_generated_at) : std::string();
  const std::string held_back = details.removals_held_back ? std::to_string(*details.removals_held_back) : std::string();
  const std::string undocumented = undocumented_json(details.undocumented_fields);
  const std::string rejections = rejections_json(details.rejections);
  tx.exec_params("UPDATE " + qualified(schema_, "sync_runs") +
                     " SET status = $2, finished_at = now(), rows_received = $3, rows_upserted = $4,"
                     " rows_removed = $5, rows_rejected = $6, error = $7,"
                     " snapshot_generated_at = $8::timestamptz, removals_held_back = $9, rows_altered = $10,"
                     " undocumented_fields = $11::jsonb, rejections = $12::jsonb WHERE id = $1",
                 run_id, std::string(to_string(status)), c.received, c.upserted, c.removed, c.rejected,
                 or_null(error), or_null(generated), or_null(held_back), c.altered, or_null(undocumented),
                 or_null(rejections));
  tx.commit();
}

}  // namespace mdesync::store
