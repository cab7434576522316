// SyncStore's snapshot lifecycle: a full snapshot is staged (page by page or file
// by file), compared with the current rows, then applied in one transaction or
// discarded.
#include "store/sync_store.hpp"

#include <pqxx/except>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/subtransaction>
#include <pqxx/transaction>

#include <vector>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "store/connection.hpp"
#include "store/copy_in.hpp"
#include "store/copy_out.hpp"
#include "store/identifiers.hpp"
#include "store/merge_sql.hpp"
#include "store/removal_guard.hpp"
#include "store/sync_store_parts.hpp"

namespace mdesync::store {
namespace {

// Below this many new rows a table's statistics matter little either way.
constexpr std::uint64_t analyze_min_rows = 10'000;

bool needs_statistics(pqxx::work& tx, const std::string& table) {
  return tx.exec1("SELECT reltuples < 0 FROM pg_class WHERE oid = " + tx.quote(table) + "::regclass")[0].as<bool>();
}

// About how many rows the staging table holds, from its size on disk (a staged
// row takes more than 100 bytes): sizes the apply's deadline without a count.
std::uint64_t staged_rows_estimate_of(pqxx::connection_base& conn, const std::string& stage, bool citus) {
  pqxx::nontransaction tx(conn);
  // On Citus the rows are in the shards; the coordinator's table is empty.
  const auto r = tx.exec1(std::string("SELECT coalesce(") + (citus ? "citus_relation_size" : "pg_relation_size") +
                          "(to_regclass(" + tx.quote(stage) + ")), 0) / 100");
  return r[0].as<std::uint64_t>();
}

constexpr const char* unseen_table = "pg_temp.mdesync_unseen";

// An index of the target table and how to build it again.
struct IndexDefinition {
  std::string drop, create;
};

// The new tenant's rows into target `tgt`; returns the rows inserted.
std::uint64_t insert_first_load(pqxx::dbtransaction& tx, const std::string& schema, const std::string& tgt,
                                const std::string& stage, const std::string& tenant, model::Dataset ds,
                                bool citus, bool& indexes_rebuilt) {
  const auto& spec = model::spec(ds);
  try {
    pqxx::subtransaction sub(tx, "mdesync_first_load");
    // The whole table empty (a first install): drop its indexes, insert, and build
    // them again from sorted data, much cheaper than growing them row by row.
    // NOWAIT: anyone else on the table (a reader, another tenant's load) just
    // means the plain insert below.
    std::vector<IndexDefinition> indexes;
    // Not on Citus: its shards are indexed on the workers, in parallel already, and
    // dropping a distributed table's key there is DDL over the whole cluster.
    bool bulk = !citus && sub.exec("SELECT NOT EXISTS (SELECT 1 FROM " + tgt + ")")[0][0].as<bool>();
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
    const std::string now = transaction_time(sub);
    const std::uint64_t inserted = sub.exec(sql::insert_new_tenant(tgt, stage, spec, now)).affected_rows();
    // Constraints first (the primary key catches a key staged twice), then the rest.
    for (const auto& index : indexes) sub.exec(index.create);
    // Every staged key is unique now: the stage counts each device's rows.
    sub.exec(sql::first_load_devices(stage, spec, change_log(schema), now));
    sub.commit();
    indexes_rebuilt = bulk;
    return inserted;
  } catch (const pqxx::unique_violation&) {
    // A key staged twice (in two files, or twice in one): let DISTINCT ON pick the last.
    return merge_rows(tx, schema, stage, tenant, ds, {.events = false, .distributed = citus}, {}, std::nullopt)
        .upserted;
  }
}


// The known rows the snapshot never repeated (changed or vanished) into
// unseen_table: only they need a key lookup. Returns how many it repeated
// unchanged; a match that did not hold leaves its suspects in `suspects`.
std::uint64_t load_unseen(pqxx::work& tx, Connection& conn, const KnownRows& known,
                          std::vector<RowDigest>& suspects) {
  tx.exec(std::string("CREATE TEMP TABLE IF NOT EXISTS ") + unseen_table + " (row_digest uuid) ON COMMIT DROP");
  CopyIn copy(conn, std::string("COPY ") + unseen_table + " (row_digest) FROM STDIN");
  // The sentinels sql::mark_removed matches rows without a loaded digest as.
  std::string lines = std::string(sql::no_digest_sentinel) + "\n";
  if (known.loaded_below()) {
    append_uuid(lines, *known.loaded_below());
    lines.push_back('\n');
  }
  auto settled = known.settle([&](const RowDigest& d) {
    append_uuid(lines, d);
    lines.push_back('\n');
    if (lines.size() >= (1u << 20)) {
      copy.write(lines);
      lines.clear();
    }
  });
  if (!lines.empty()) copy.write(lines);
  copy.finish();
  tx.exec(std::string("ANALYZE ") + unseen_table);
  suspects = std::move(settled.suspects);
  return settled.seen;
}

// The tenant's current rows in `ds`. device_presence keeps every device's count
// of current rows (see sql::device_ctes): a few thousand rows to add instead of
// a pass over the table.
std::uint64_t current_rows(pqxx::work& tx, const std::string& schema, const std::string& tenant, model::Dataset ds) {
  return tx.exec_params1("SELECT coalesce(sum(software), 0) FROM " + qualified(schema, "device_presence") +
                             " WHERE tenant = $1 AND dataset = $2",
                         tenant, std::string(model::spec(ds).name))[0]
      .as<std::uint64_t>();
}

// Statistics the comparison's plan needs, and the tenant's current rows.
std::uint64_t prepare_comparison(pqxx::work& tx, const std::string& schema, const std::string& tgt,
                                 const std::string& stage, const std::string& tenant, model::Dataset ds) {
  tx.exec("ANALYZE " + stage);
  // Without statistics (a table never analyzed, e.g. a full sync right after the
  // first load, before autovacuum got to it) the planner expects one row and runs
  // the anti joins of the merge as nested loops over the whole stage: quadratic time.
  if (needs_statistics(tx, tgt)) tx.exec("ANALYZE " + tgt);
  return current_rows(tx, schema, tenant, ds);
}

// The snapshot then compares every row by key, as without digests.
void log_digests_not_used(const std::string& tenant, model::Dataset ds, const std::string& reason) {
  log::warn("digests not used", {{"tenant", tenant}, {"dataset", model::spec(ds).name}, {"reason", reason}});
}

}  // namespace

void SyncStore::begin_snapshot(const std::string& tenant, model::Dataset ds) {
  const std::string stage = snapshot_stage(tenant, ds);
  const bool citus = on_citus();
  const auto op = conn_->operation("creating the snapshot stage", short_operation);
  pqxx::work tx(*conn_);
  tx.exec("DROP TABLE IF EXISTS " + stage);
  create_stage(tx, stage, ds, target(ds), citus);
  tx.commit();
  load_known_rows(tenant, ds);
}

void SyncStore::load_known_rows(const std::string& tenant, model::Dataset ds) {
  const std::string key = tenant_dataset(tenant, ds);
  known_.erase(key);
  const auto op = conn_->operation("reading the digests of the current rows", bulk_operation(known_rows_limit_));
  pqxx::work tx(*conn_);
  if (known_rows_limit_ == 0 || !has_baseline(tx, schema_, baselines_, tenant, ds)) return;
  // The tenant's count of current rows sizes the memory once.
  const std::uint64_t current = current_rows(tx, schema_, tenant, ds);
  // Above the limit, only the digests below a bound that splits off about
  // `limit` of them (digests are uniform): memory stays bounded, and the rest of
  // the rows are compared by key as if they had none.
  std::optional<RowDigest> bound;
  std::uint64_t expected = current;
  if (current > known_rows_limit_) {
    const long double share = static_cast<long double>(known_rows_limit_) / static_cast<long double>(current);
    bound = RowDigest{static_cast<std::uint64_t>(share * 18446744073709551616.0L), 0};
    expected = known_rows_limit_;
  }
  // A margin over the expected count for chance, not for rows crafted below
  // the bound: past it, no digests at all.
  const std::uint64_t cap = expected + expected / 10 + 1000;
  // Without room for the digest file the snapshot still runs, compared by key.
  std::shared_ptr<KnownRows> known;
  try {
    known = std::make_shared<KnownRows>(static_cast<std::size_t>(expected));
  } catch (const std::runtime_error& e) {
    log_digests_not_used(tenant, ds, e.what());
    return;
  }
  std::string below;
  if (bound) {
    append_uuid(below, *bound);
    below = " AND row_digest < " + tx.quote(below) + "::uuid";
  }
  copy_out_lines(*conn_,
                 "COPY (SELECT row_digest FROM " + target(ds) + " WHERE tenant = " + tx.quote(tenant) +
                     " AND removed_at IS NULL AND row_digest IS NOT NULL" + below + " LIMIT " +
                     std::to_string(cap + 1) + ") TO STDOUT",
                 [&](std::string_view line) {
                   if (auto d = parse_uuid(line)) known->add(*d);
                 });
  tx.commit();
  try {
    known->seal();
  } catch (const std::runtime_error& e) {
    log_digests_not_used(tenant, ds, e.what());
    return;
  }
  if (known->size() > cap) {
    log_digests_not_used(tenant, ds, "more digests below the bound than sync.digest_rows_limit allows");
    return;
  }
  if (bound) {
    known->set_loaded_below(*bound);
    log::info("digests of a share of the rows", {{"tenant", tenant}, {"dataset", model::spec(ds).name},
                                                 {"current_rows", current}, {"loaded", known->size()},
                                                 {"reason", "more current rows than sync.digest_rows_limit"}});
  }
  known_[key] = std::move(known);
}

void SyncStore::forget_suspect_digests(const std::string& tenant, model::Dataset ds,
                                       const std::vector<RowDigest>& suspects) {
  // Without a digest these rows are compared by key at the next snapshot, and get
  // their digest back then without counting as changed; the staged markers that
  // may not match them go with the stage.
  std::string array = "{";
  for (const auto& d : suspects) {
    if (array.size() > 1) array.push_back(',');
    append_uuid(array, d);
  }
  array.push_back('}');
  log::warn("row digest collision", {{"tenant", tenant}, {"dataset", model::spec(ds).name},
                                     {"rows", suspects.size()},
                                     {"action", "snapshot discarded, these rows compared by key next time"}});
  {
    const auto op = conn_->operation("forgetting colliding digests", bulk_operation(known_rows_limit_));
    pqxx::work tx(*conn_);
    tx.exec_params("UPDATE " + target(ds) +
                       " SET row_digest = NULL WHERE tenant = $1 AND removed_at IS NULL AND row_digest = ANY($2::uuid[])",
                   tenant, array);
    tx.commit();
  }
  discard_snapshot(tenant, ds);
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

std::uint64_t SyncStore::staged_rows_estimate(const std::string& stage) {
  const auto op = conn_->operation("sizing the snapshot", short_operation);
  return staged_rows_estimate_of(*conn_, stage, on_citus());
}


SnapshotResult SyncStore::apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& o,
                                         std::optional<std::int64_t> run_id) {
  const auto& spec = model::spec(ds);
  const std::string dataset(spec.name);
  const std::string stage = snapshot_stage(tenant, ds);
  const std::string tgt = target(ds);
  SnapshotResult result;
  const bool citus = on_citus();
  const auto op = conn_->operation("applying the snapshot", bulk_operation(2 * staged_rows_estimate(stage)));
  pqxx::work tx(*conn_);
  // Waits for locks (a reader's, another instance's) are bounded on the server too.
  tx.exec("SET LOCAL lock_timeout = '" + std::to_string(short_operation.count()) + "s'");
  const bool baseline = has_baseline(tx, schema_, baselines_, tenant, ds);
  // The tenant's first load (no rows yet) is a plain insert: no plan to get right.
  result.first_load =
      !baseline &&
      !tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + tgt + " WHERE tenant = $1)", tenant)[0].as<bool>();
  if (result.first_load) {
    result.upserted = insert_first_load(tx, schema_, tgt, stage, tenant, ds, citus, result.indexes_rebuilt);
  } else {
    result.active_before = prepare_comparison(tx, schema_, tgt, stage, tenant, ds);
    std::string unseen, unloaded_from;
    bool may_remove = true;
    if (const auto known = snapshot_known_rows(tenant, ds)) {
      std::vector<RowDigest> suspects;
      result.unchanged = load_unseen(tx, *conn_, *known, suspects);
      if (!suspects.empty()) {
        tx.abort();
        forget_suspect_digests(tenant, ds, suspects);
        throw Error(ErrorKind::transient,
                    "a row of the snapshot shared the first 64 bits of its digest with another row; the snapshot "
                    "was discarded and is staged again in full for " + std::to_string(suspects.size()) +
                        " rows");
      }
      unseen = unseen_table;
      if (known->loaded_below()) append_uuid(unloaded_from, *known->loaded_below());
      // Every known row repeated (the unchanged snapshot): only a row without a
      // digest (stored before migration 0004) could still be missing from it.
      if (result.unchanged == known->size() && !known->loaded_below())
        may_remove = tx.exec_params1("SELECT EXISTS (SELECT 1 FROM " + tgt +
                                         " WHERE tenant = $1 AND removed_at IS NULL AND row_digest IS NULL)",
                                     tenant)[0]
                         .as<bool>();
    }
    // One statement merges, removes, keeps the devices and records the changes
    // (from the baseline on), so an upgrade (one version removed, another
    // installed) can be told from a removal plus an install, and a device that
    // vanished from both. It runs with the removals first, in a savepoint: the
    // rows it removed are the guard's candidates, found by the same pass. Only
    // when the guard holds them back (rarely) is it undone and run without them.
    // When nothing can be missing, the pass over the tenant's rows is skipped.
    const sql::MergeSteps steps{.remove = may_remove,
                                .events = baseline,
                                .unseen = unseen,
                                .unloaded_from = unloaded_from,
                                .distributed = citus};
    const std::string removed_at = format_iso8601_utc(o.removed_at);
    pqxx::subtransaction with_removals(tx, "mdesync_merge");
    MergeCounts m = merge_rows(with_removals, schema_, stage, tenant, ds, steps, removed_at, run_id);
    result.removal_candidates = m.removed;
    const RemovalVerdict verdict =
        judge_removals(result.active_before, result.removal_candidates, o.max_removal_ratio, o.force);
    result.guarded = verdict.guarded;
    if (verdict.guarded) {
      with_removals.abort();
      sql::MergeSteps kept = steps;
      kept.remove = false;
      m = merge_rows(tx, schema_, stage, tenant, ds, kept, removed_at, run_id);
    } else {
      with_removals.commit();
    }
    result.upserted = m.upserted;
    result.removed = m.removed;
    result.changes = m.changes;
  }
  advance_watermark(tx, schema_, tenant, ds, o.advance);
  // When the snapshot behind the current rows was taken (the devices' last
  // sighting, see the devices view). One whose removals the guard held back did
  // not decide what is current.
  if (!result.guarded)
    tx.exec_params("UPDATE " + qualified(schema_, "sync_state") +
                       " SET last_snapshot_at = $3::timestamptz WHERE tenant = $1 AND dataset = $2",
                   tenant, dataset, format_iso8601_utc(o.removed_at));
  if (o.snapshot_generated_at) {
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
