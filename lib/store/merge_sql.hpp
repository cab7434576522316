#pragma once
// SQL text for staging and merging, built from the table specs. Pure: tested
// without a database, and the only place the column lists are spelled out.
#include <string>

#include "model/dataset.hpp"

namespace mdesync::store::sql {

// "tenant text, device_id text, ..., row_digest uuid" for a staging table (no
// constraints). A staged row whose key columns but the device id are NULL is a
// marker for a row the snapshot repeated unchanged (see digest_lines.hpp);
// merges skip it.
std::string staging_columns(const model::DatasetSpec& spec);

// "tenant, device_id, ..., row_digest" in COPY row order.
std::string copy_columns(const model::DatasetSpec& spec);

// COPY <table> (<copy columns>) FROM STDIN
std::string copy_from_stdin(const std::string& table, const model::DatasetSpec& spec);

// Upserts every staged row into target. Duplicate keys inside the stage collapse to
// the last one staged (highest ord): DISTINCT ON is load-bearing, because
// ON CONFLICT cannot touch the same target row twice in one statement.
// A row whose values did not change is not rewritten (no dead tuple, no WAL).
// first_synced_at is set once; last_changed_at whenever a value changes or the row
// comes back; removed_at is cleared when the row comes back.
// `now` everywhere below: the transaction's time as SQL, "now()" or a literal.
// Citus refuses any function that is not IMMUTABLE in the DO UPDATE SET of an
// INSERT into a distributed table, so the store passes the time as a literal.
std::string upsert(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                   const std::string& now = "now()");

// "<alias>.<last key column> IS NOT NULL": a staged row that is not a marker.
std::string full_row(const model::DatasetSpec& spec, const char* alias);

// What a row without a digest is matched as in `unseen` (see mark_removed).
inline constexpr const char* no_digest_sentinel = "00000000-0000-0000-0000-000000000000";

// Rows of tenant $1 still present in target but absent from the stage: removed_at = $2.
// `unseen` (optional): a table of the row_digest values of the tenant's rows that
// the snapshot did not repeat unchanged; without it every row is looked up.
// `unloaded_from` (optional, a uuid literal's text): digests from it on were not
// loaded (see KnownRows::set_loaded_below), so those rows are looked up too.
// `unseen` must also hold the sentinels: no_digest_sentinel, and `unloaded_from`
// when given (rows without a digest, and from the bound on, are matched as those).
std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                         const std::string& unseen = {}, const std::string& now = "now()",
                         const std::string& unloaded_from = {});

// Where a merge records what it changed (all qualified and quoted): the schema's
// software_changes table and its version_sort_key function; optionally its
// device_presence and sync_state tables. With `devices`, every merge keeps
// device_presence in step with the rows it changes and tells a device that
// vanished from a full snapshot altogether (its rows become 'device_gone', not
// 'removed') or came back ('device_returned', not 'installed' or 'reinstalled')
// from software removed or installed; without, only the five row-level kinds.
struct ChangeLog {
  std::string table;
  std::string version_key;
  std::string devices = {};
  std::string state = {};
};

// What a merge statement does besides the upsert.
struct MergeSteps {
  bool remove = false;      // a full snapshot's removals (mark_removed): $1 tenant, $2 removed_at
  bool events = true;       // write software_changes; false before the baseline (the first sync)
  bool returned = false;    // an incremental page: each device it sent was returned by the pull
  std::string unseen = {};  // see mark_removed()
  std::string unloaded_from = {};  // see mark_removed()
  std::string now = "now()";  // see upsert()
  // The tables are distributed on Citus, the stage co-located with the target.
  // Citus runs each CTE as a subplan of its own, and a join between a CTE's
  // result and a distributed table by pulling the whole table to the
  // coordinator. So the new and reinstalled keys are found by joining the stage
  // with the target (on the workers, shard by shard) before the upsert writes,
  // rather than from the upsert's result, and the devices are looked up with
  // the touched devices as a filter the workers apply.
  bool distributed = false;
};

// One statement: upsert, with `remove` the snapshot's removals, the device
// bookkeeping (with log.devices) and with `events` the change events. Every CTE
// sees the table as it was before the statement, so nobody ever sees half a
// snapshot and an upgrade (one version removed, another installed on the same
// device) can be told from a removal plus an install. Only the devices whose rows
// the statement changed (or, with `returned`, that the page sent) are looked up
// or written: no pass over the table.
// Parameters: with `remove`, $1 tenant and $2 removed_at; with `events`, the run
// id (bigint, may be NULL) next: $3, or $1 without `remove`. Events: 'installed'
// for a new key, 'reinstalled' for a key whose row was removed, an upgrade or
// downgrade being an appeared key and a removed key of the same (tenant, device,
// vendor, name) paired up. An unchanged row returns nothing from the upsert, so
// it costs no event and no lookup. One result row:
// (upserted, removed, changes, kinds), kinds being {"installed": n, ...} (json,
// NULL when nothing was recorded).
std::string merge(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                  const ChangeLog& log, const MergeSteps& steps);

// After insert_new_tenant (its keys are unique, or it failed): the devices of the
// staged rows into log.devices, counted from the stage.
std::string first_load_devices(const std::string& stage, const model::DatasetSpec& spec, const ChangeLog& log,
                               const std::string& now = "now()");

// The first load of a tenant (it has no rows): a plain INSERT of the staged rows,
// without DISTINCT ON or ON CONFLICT. A key staged twice makes it fail with a
// unique violation; the caller then falls back to upsert().
std::string insert_new_tenant(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                              const std::string& now = "now()");

}  // namespace mdesync::store::sql
