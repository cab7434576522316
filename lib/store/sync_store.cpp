#include "store/sync_store.hpp"

#include <pqxx/nontransaction>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/subtransaction>
#include <pqxx/transaction>

#include <vector>

#include "core/json_escape.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "store/conninfo.hpp"
#include "store/copy_in.hpp"
#include "store/copy_out.hpp"
#include "store/digest_lines.hpp"
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

// About how many rows the staging table holds, from its size on disk (a staged
// row takes more than 100 bytes): sizes the apply's deadline without a count.
std::uint64_t staged_rows_estimate_of(pqxx::connection_base& conn, const std::string& stage) {
  pqxx::nontransaction tx(conn);
  const auto r = tx.exec1("SELECT coalesce(pg_relation_size(to_regclass(" + tx.quote(stage) + ")), 0) / 100");
  return r[0].as<std::uint64_t>();
}

std::string tenant_dataset(const std::string& tenant, model::Dataset ds) {
  return tenant + "/" + std::string(model::spec(ds).name);
}

constexpr const char* unseen_table = "pg_temp.mdesync_unseen";

// An index of the target table and how to build it again.
struct IndexDefinition {
  std::string drop, create;
};

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

std::string SyncStore::target(model::Dataset ds) const { return qualified(schema_, model::spec(ds).table); }

std::string SyncStore::snapshot_stage(const std::string& tenant, model::Dataset ds) const {
  return qualified(schema_, stage_table(model::spec(ds).name, tenant));
}

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
  const auto op = conn_->operation("creating the page stage", short_operation);
  pqxx::nontransaction tx(*conn_);
  // ON COMMIT DELETE ROWS: each batch starts empty without a TRUNCATE round trip.
  tx.exec("CREATE TEMP TABLE IF NOT EXISTS " + page_stage_name(ds) +
          " (ord bigint GENERATED ALWAYS AS IDENTITY, " + sql::staging_columns(model::spec(ds)) +
          ") ON COMMIT DELETE ROWS");
  ready = true;
}

struct SyncStore::OpenPage {
  std::string tenant;
  model::Dataset ds;
  RunMode mode;
  std::string stage;
  pqxx::work tx;
  std::unique_ptr<CopyIn> copy;
  LineDigester digester;
  bool wrote = false;

  OpenPage(Connection& conn, std::string t, model::Dataset d, RunMode m, std::string st,
           std::shared_ptr<KnownRows> known)
      : tenant(std::move(t)), ds(d), mode(m), stage(std::move(st)), tx(conn), digester(d, std::move(known)) {}
};

void SyncStore::open_page(const std::string& tenant, model::Dataset ds, RunMode mode) {
  abort_page();
  if (mode == RunMode::incremental) ensure_page_stage(ds);
  const std::string stage = mode == RunMode::incremental ? page_stage_name(ds) : snapshot_stage(tenant, ds);
  const auto op = conn_->operation("opening a page transaction", short_operation);
  page_ = std::make_unique<OpenPage>(*conn_, tenant, ds, mode, stage,
                                     mode == RunMode::full ? snapshot_known_rows(tenant, ds) : nullptr);
}

void SyncStore::write_page(std::string_view copy_text) {
  if (copy_text.empty()) return;
  auto& p = *page_;
  try {
    // COPY starts with the first row: a page without rows costs no COPY round trip.
    if (!p.copy) p.copy = std::make_unique<CopyIn>(*conn_, sql::copy_from_stdin(p.stage, model::spec(p.ds)));
    p.copy->write(p.digester.digest(copy_text));
    p.wrote = true;
  } catch (...) {
    abort_page();
    throw;
  }
}

std::uint64_t SyncStore::close_page(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id) {
  try {
    const std::uint64_t upserted = commit_page(advance, run_id);
    page_.reset();
    return upserted;
  } catch (...) {
    abort_page();
    throw;
  }
}

std::uint64_t SyncStore::commit_page(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id) {
  auto& p = *page_;
  // A page holds at most 200,000 records.
  const auto op = conn_->operation("committing a page", bulk_operation(200'000));
  std::uint64_t upserted = 0;
  if (p.copy) {
    p.copy->finish();
    p.copy.reset();
  }
  if (p.wrote && p.mode == RunMode::incremental) {
    const auto& spec = model::spec(p.ds);
    if (has_baseline(p.tx, p.tenant, p.ds)) {
      const std::string run = run_id ? std::to_string(*run_id) : std::string();
      upserted = p.tx.exec_params1(sql::upsert_recording_changes(target(p.ds), p.stage, spec, change_log()),
                                   run_id ? run.c_str() : nullptr)[0]
                     .as<std::uint64_t>();
    } else {
      upserted = p.tx.exec(sql::upsert(target(p.ds), p.stage, spec)).affected_rows();
    }
  }
  if (advance) advance_watermark(p.tx, schema_, p.tenant, p.ds, *advance);
  p.tx.commit();
  return upserted;
}

void SyncStore::abort_page() noexcept {
  if (!page_) return;
  try {
    page_->copy.reset();  // ends an open COPY as failed
    page_->tx.abort();
  } catch (const std::exception&) {
    // A broken connection aborts the transaction on the server anyway.
  }
  page_.reset();
}

std::uint64_t SyncStore::upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                                      const std::optional<WatermarkUpdate>& advance,
                                      std::optional<std::int64_t> run_id) {
  open_page(tenant, ds, RunMode::incremental);
  write_page(copy_text);
  return close_page(advance, run_id);
}

void SyncStore::begin_snapshot(const std::string& tenant, model::Dataset ds) {
  const std::string stage = snapshot_stage(tenant, ds);
  const auto op = conn_->operation("creating the snapshot stage", short_operation);
  pqxx::work tx(*conn_);
  tx.exec("DROP TABLE IF EXISTS " + stage);
  // Unlogged: staged rows cost no WAL, and a crash only loses what is re-downloaded anyway.
  tx.exec("CREATE UNLOGGED TABLE " + stage + " (ord bigint GENERATED ALWAYS AS IDENTITY, " +
          sql::staging_columns(model::spec(ds)) + ")");
  tx.commit();
  load_known_rows(tenant, ds);
}

void SyncStore::load_known_rows(const std::string& tenant, model::Dataset ds) {
  const std::string key = tenant_dataset(tenant, ds);
  known_.erase(key);
  const auto op = conn_->operation("reading the digests of the current rows", bulk_operation(known_rows_limit_));
  pqxx::work tx(*conn_);
  if (known_rows_limit_ == 0 || !has_baseline(tx, tenant, ds)) return;
  std::vector<RowDigest> digests;
  // One row past the limit tells a tenant that is too large, without reading it all.
  copy_out_lines(*conn_,
                 "COPY (SELECT row_digest FROM " + target(ds) + " WHERE tenant = " + tx.quote(tenant) +
                     " AND removed_at IS NULL AND row_digest IS NOT NULL LIMIT " +
                     std::to_string(known_rows_limit_ + 1) + ") TO STDOUT",
                 [&](std::string_view line) {
                   if (auto d = parse_uuid(line)) digests.push_back(*d);
                 });
  tx.commit();
  if (digests.size() > known_rows_limit_) {
    log::info("digests not used", {{"tenant", tenant}, {"dataset", model::spec(ds).name},
                                   {"reason", "more current rows than sync.digest_rows_limit"},
                                   {"limit", known_rows_limit_}});
    return;
  }
  known_[key] = std::make_shared<KnownRows>(std::move(digests));
}

std::shared_ptr<KnownRows> SyncStore::snapshot_known_rows(const std::string& tenant, model::Dataset ds) const {
  const auto it = known_.find(tenant_dataset(tenant, ds));
  return it == known_.end() ? nullptr : it->second;
}

void SyncStore::stage(const std::string& tenant, model::Dataset ds, std::string_view copy_text) {
  if (copy_text.empty()) return;
  open_page(tenant, ds, RunMode::full);
  write_page(copy_text);
  close_page(std::nullopt);
}

std::uint64_t SyncStore::insert_first_load(pqxx::dbtransaction& tx, const std::string& stage, model::Dataset ds,
                                           bool& indexes_rebuilt) {
  const auto& spec = model::spec(ds);
  const std::string tgt = target(ds);
  try {
    pqxx::subtransaction sub(tx, "mdesync_first_load");
    // The whole table empty (a first install): drop its indexes, insert, and build
    // them again from sorted data, much cheaper than growing them row by row.
    // NOWAIT: anyone else on the table (a reader, another tenant's load) just
    // means the plain insert below.
    std::vector<IndexDefinition> indexes;
    bool bulk = sub.exec("SELECT NOT EXISTS (SELECT 1 FROM " + tgt + ")")[0][0].as<bool>();
    if (bulk) {
      try {
        pqxx::subtransaction lock(sub, "mdesync_lock");
        lock.exec("LOCK TABLE " + tgt + " IN ACCESS EXCLUSIVE MODE NOWAIT");
        lock.commit();
      } catch (const pqxx::sql_error& e) {
        if (e.sqlstate() != "55P03") throw;
        bulk = false;
      }
    }
    if (bulk) bulk = sub.exec("SELECT NOT EXISTS (SELECT 1 FROM " + tgt + ")")[0][0].as<bool>();
    if (bulk) {
      for (const auto& row : sub.exec(
               "SELECT c.conname, pg_get_constraintdef(c.oid), i.indexrelid::regclass::text,"
               " pg_get_indexdef(i.indexrelid) FROM pg_index i LEFT JOIN pg_constraint c"
               " ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')"
               " WHERE i.indrelid = " + sub.quote(tgt) + "::regclass ORDER BY c.conname IS NULL")) {
        if (!row[0].is_null()) {
          const std::string name = quote_identifier(row[0].as<std::string>());
          indexes.push_back({"ALTER TABLE " + tgt + " DROP CONSTRAINT " + name,
                             "ALTER TABLE " + tgt + " ADD CONSTRAINT " + name + " " + row[1].as<std::string>()});
        } else {
          indexes.push_back({"DROP INDEX " + row[2].as<std::string>(), row[3].as<std::string>()});
        }
      }
      sub.exec("SET LOCAL maintenance_work_mem = '256MB'");
      for (const auto& index : indexes) sub.exec(index.drop);
    }
    const std::uint64_t inserted = sub.exec(sql::insert_new_tenant(tgt, stage, spec)).affected_rows();
    // Constraints first (the primary key catches a key staged twice), then the rest.
    for (const auto& index : indexes) sub.exec(index.create);
    sub.commit();
    indexes_rebuilt = bulk;
    return inserted;
  } catch (const pqxx::unique_violation&) {
    // A key staged twice (in two files, or twice in one): let DISTINCT ON pick the last.
    return tx.exec(sql::upsert(tgt, stage, spec)).affected_rows();
  }
}

std::uint64_t SyncStore::staged_rows_estimate(const std::string& stage) {
  const auto op = conn_->operation("sizing the snapshot", short_operation);
  return staged_rows_estimate_of(*conn_, stage);
}

SnapshotResult SyncStore::apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& o,
                                         std::optional<std::int64_t> run_id) {
  const auto& spec = model::spec(ds);
  const std::string stage = snapshot_stage(tenant, ds);
  const std::string tgt = target(ds);
  SnapshotResult result;
  const auto op = conn_->operation("applying the snapshot", bulk_operation(2 * staged_rows_estimate(stage)));
  pqxx::work tx(*conn_);
  // Waits for locks (a reader's, another instance's) are bounded on the server too.
  tx.exec("SET LOCAL lock_timeout = '" + std::to_string(short_operation.count()) + "s'");
  const bool baseline = has_baseline(tx, tenant, ds);
  // The tenant's first load (no rows yet) is a plain insert: no plan to get right.
  result.first_load =
      !baseline &&
      !tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + tgt + " WHERE tenant = $1)", tenant)[0].as<bool>();
  if (!result.first_load) {
    tx.exec("ANALYZE " + stage);
    // Without statistics (a table never analyzed, e.g. a full sync right after the
    // first load, before autovacuum got to it) the planner expects one row and runs
    // the anti joins below as nested loops over the whole stage: quadratic time.
    if (needs_statistics(tx, tgt)) tx.exec("ANALYZE " + tgt);
    result.active_before =
        tx.exec_params1("SELECT count(*) FROM " + tgt + " WHERE tenant = $1 AND removed_at IS NULL", tenant)[0]
            .as<std::uint64_t>();
  }
  // The known rows nobody saw changed or vanished: only they need a key lookup.
  std::string unseen;
  if (const auto known = snapshot_known_rows(tenant, ds)) {
    unseen = unseen_table;
    tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + unseen_table + " (row_digest uuid) ON COMMIT DROP");
    const auto digests = known->unseen();
    result.unchanged = known->size() - digests.size();
    CopyIn copy(*conn_, std::string("COPY ") + unseen_table + " (row_digest) FROM STDIN");
    std::string line;
    for (const auto& d : digests) {
      line.clear();
      append_uuid(line, d);
      line.push_back('\n');
      copy.write(line);
    }
    copy.finish();
    tx.exec(std::string("ANALYZE ") + unseen_table);
  }
  if (!result.first_load)
    result.removal_candidates =
        tx.exec_params1(sql::count_removal_candidates(tgt, stage, spec, unseen), tenant)[0].as<std::uint64_t>();
  result.guarded = !o.force && result.active_before > 0 &&
                   static_cast<double>(result.removal_candidates) >
                       o.max_removal_ratio * static_cast<double>(result.active_before);
  const bool remove = !result.guarded && result.removal_candidates > 0;
  const std::string removed_at = format_iso8601_utc(o.removed_at);
  if (baseline) {
    // One statement merges, removes and records the changes, so an upgrade (one
    // version removed, another installed) can be told from a removal plus an install.
    const std::string run = run_id ? std::to_string(*run_id) : std::string();
    const char* run_param = run_id ? run.c_str() : nullptr;
    const auto r = remove ? tx.exec_params1(sql::apply_snapshot_recording_changes(tgt, stage, spec, change_log(), unseen),
                                            tenant, removed_at, run_param)
                          : tx.exec_params1(sql::upsert_recording_changes(tgt, stage, spec, change_log()), run_param);
    result.upserted = r[0].as<std::uint64_t>();
    result.removed = r[1].as<std::uint64_t>();
    result.changes = r[2].as<std::uint64_t>();
  } else {
    result.upserted = result.first_load ? insert_first_load(tx, stage, ds, result.indexes_rebuilt)
                                        : tx.exec(sql::upsert(tgt, stage, spec)).affected_rows();
    if (remove)
      result.removed =
          tx.exec_params(sql::mark_removed(tgt, stage, spec, unseen), tenant, removed_at).affected_rows();
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
  known_.erase(tenant_dataset(tenant, ds));
  return result;
}

void SyncStore::discard_snapshot(const std::string& tenant, model::Dataset ds) {
  known_.erase(tenant_dataset(tenant, ds));
  const auto op = conn_->operation("discarding the snapshot stage", short_operation);
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
    const auto op = conn_->operation("looking for staged files", short_operation);
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
  if (!files.empty()) {
    // Resuming: the rows staged before the restart were seen already.
    load_known_rows(tenant, ds);
    if (const auto known = snapshot_known_rows(tenant, ds)) {
      const auto op = conn_->operation("reading the staged digests", bulk_operation(known_rows_limit_));
      pqxx::work tx(*conn_);
      copy_out_lines(*conn_, "COPY (SELECT row_digest FROM " + snapshot_stage(tenant, ds) + ") TO STDOUT",
                     [&](std::string_view line) {
                       if (auto d = parse_uuid(line)) known->mark_seen(*d);
                     });
      tx.commit();
    }
    return files;
  }
  // Another snapshot's leftovers (or none): start clean.
  const auto op = conn_->operation("clearing staged files", short_operation);
  pqxx::work tx(*conn_);
  tx.exec_params("DELETE FROM " + qualified(schema_, "snapshot_files") + " WHERE tenant = $1 AND dataset = $2",
                 tenant, dataset);
  tx.commit();
  begin_snapshot(tenant, ds);
  return files;
}

}  // namespace mdesync::store
