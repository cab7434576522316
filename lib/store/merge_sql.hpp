#pragma once
// SQL text for staging and merging, built from the table specs. Pure: tested
// without a database, and the only place the column lists are spelled out.
#include <string>

#include "model/dataset.hpp"

namespace mdesync::store::sql {

// "tenant text, device_id text, ..., row_digest uuid" for a staging table (no
// constraints). A staged row whose key columns are NULL is a marker for a row the
// snapshot repeated unchanged (see digest_lines.hpp); merges skip it.
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
std::string upsert(const std::string& target, const std::string& stage, const model::DatasetSpec& spec);

// "<alias>.<first key column> IS NOT NULL": a staged row that is not a marker.
std::string full_row(const model::DatasetSpec& spec, const char* alias);

// Rows of tenant $1 still present in target but absent from the stage: removed_at = $2.
// `unseen` (optional): a table of the row_digest values of the tenant's rows that
// the snapshot did not repeat unchanged; without it every row is looked up.
std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                         const std::string& unseen = {});

// Where a merge records what it changed (both qualified and quoted): the schema's
// software_changes table and its version_sort_key function.
struct ChangeLog {
  std::string table;
  std::string version_key;
};

// upsert() that also writes change events to log.table in the same statement:
// 'installed' for a new key, 'reinstalled' for a key whose row was removed.
// An unchanged row returns nothing from the upsert, so it costs no event and no
// lookup. $1: run id (bigint, may be NULL). One result row: (upserted, removed, changes).
std::string upsert_recording_changes(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec, const ChangeLog& log);

// A whole snapshot in one statement: upsert, mark_removed and the change events,
// an upgrade or downgrade being an appeared key and a removed key of the same
// (tenant, device, vendor, name) paired up. $1 tenant, $2 removed_at, $3 run id.
// One result row: (upserted, removed, changes).
std::string apply_snapshot_recording_changes(const std::string& target, const std::string& stage,
                                             const model::DatasetSpec& spec, const ChangeLog& log,
                                             const std::string& unseen = {});

// How many rows mark_removed would touch (tenant $1), for the mass-removal guard.
std::string count_removal_candidates(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec, const std::string& unseen = {});

// The first load of a tenant (it has no rows): a plain INSERT of the staged rows,
// without DISTINCT ON or ON CONFLICT. A key staged twice makes it fail with a
// unique violation; the caller then falls back to upsert().
std::string insert_new_tenant(const std::string& target, const std::string& stage, const model::DatasetSpec& spec);

}  // namespace mdesync::store::sql
