#pragma once
// SQL text for staging and merging, built from the table specs. Pure: tested
// without a database, and the only place the column lists are spelled out.
#include <string>

#include "model/dataset.hpp"

namespace mdesync::store::sql {

// "tenant text, device_id text, ..." for a staging table (no constraints).
std::string staging_columns(const model::DatasetSpec& spec);

// "tenant, device_id, ..." in COPY row order.
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

// Rows of tenant $1 still present in target but absent from the stage: removed_at = $2.
std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec);

// How many rows mark_removed would touch (tenant $1), for the mass-removal guard.
std::string count_removal_candidates(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec);

}  // namespace mdesync::store::sql
