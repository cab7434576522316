#include "store/merge_sql.hpp"

namespace mdesync::store::sql {
namespace {

const char* sql_type(model::ColumnType t) {
  switch (t) {
    case model::ColumnType::text: return "text";
    case model::ColumnType::integer: return "integer";
    case model::ColumnType::timestamptz: return "timestamptz";
    case model::ColumnType::text_array: return "text[]";
  }
  return "text";
}

std::string key_columns(const model::DatasetSpec& spec, const char* prefix) {
  std::string out = std::string(prefix) + "tenant";
  for (const auto& c : spec.columns)
    if (c.key) out += std::string(", ") + prefix + std::string(c.sql_name);
  return out;
}

std::string key_match(const model::DatasetSpec& spec, const char* a, const char* b) {
  std::string out = std::string(a) + ".tenant = " + b + ".tenant";
  for (const auto& c : spec.columns)
    if (c.key) out += " AND " + std::string(a) + "." + std::string(c.sql_name) + " = " + b + "." + std::string(c.sql_name);
  return out;
}

}  // namespace

std::string staging_columns(const model::DatasetSpec& spec) {
  std::string out = "tenant text";
  for (const auto& c : spec.columns) out += ", " + std::string(c.sql_name) + " " + sql_type(c.type);
  return out + ", " + std::string(model::extra_fields_column) + " jsonb, row_digest uuid";
}

std::string copy_columns(const model::DatasetSpec& spec) {
  std::string out = "tenant";
  for (const auto& c : spec.columns) out += ", " + std::string(c.sql_name);
  return out + ", " + std::string(model::extra_fields_column) + ", row_digest";
}

std::string full_row(const model::DatasetSpec& spec, const char* alias) {
  for (const auto& c : spec.columns)
    if (c.key) return std::string(alias) + "." + std::string(c.sql_name) + " IS NOT NULL";
  return "true";
}

std::string copy_from_stdin(const std::string& table, const model::DatasetSpec& spec) {
  return "COPY " + table + " (" + copy_columns(spec) + ") FROM STDIN";
}

std::string upsert(const std::string& target, const std::string& stage, const model::DatasetSpec& spec) {
  const std::string cols = copy_columns(spec);
  std::string set, old_values, new_values;
  const auto value_column = [&](std::string_view name) {
    const std::string n(name);
    set += n + " = excluded." + n + ", ";
    old_values += "t." + n + ", ";
    new_values += "excluded." + n + ", ";
  };
  for (const auto& c : spec.columns)
    if (!c.key) value_column(c.sql_name);
  value_column(model::extra_fields_column);
  const std::string changed =
      "(" + old_values + "t.removed_at IS NULL) IS DISTINCT FROM (" + new_values + "true)";
  // A row whose digest is missing (stored before migration 0004) or computed
  // over another line format (before extra_fields, migration 0005) gets the new
  // one once, without counting as changed; after that, unchanged snapshot rows
  // are never sent.
  return "INSERT INTO " + target + " AS t (" + cols + ", first_synced_at, last_changed_at, removed_at)\n"
         "SELECT DISTINCT ON (" + key_columns(spec, "") + ") " + cols + ", now(), now(), NULL::timestamptz\n"
         "FROM " + stage + " AS s WHERE " + full_row(spec, "s") + "\n"
         "ORDER BY " + key_columns(spec, "") + ", ord DESC\n"
         "ON CONFLICT (" + key_columns(spec, "") + ") DO UPDATE SET " + set +
         "row_digest = excluded.row_digest,\n"
         "last_changed_at = CASE WHEN " + changed + " THEN now() ELSE t.last_changed_at END, removed_at = NULL\n"
         "WHERE " + changed + " OR t.row_digest IS DISTINCT FROM excluded.row_digest";
}

namespace {

// Rows of tenant $1 that the snapshot no longer lists. With `unseen` (the digests
// of known rows the snapshot did not repeat unchanged), only those rows and rows
// without a digest need the key lookup in the stage.
std::string removal_candidates(const std::string& stage, const model::DatasetSpec& spec, const std::string& unseen) {
  return "t.tenant = $1 AND t.removed_at IS NULL\n" +
         (unseen.empty() ? std::string()
                         : "AND (t.row_digest IS NULL OR t.row_digest IN (SELECT row_digest FROM " + unseen + "))\n") +
         "AND NOT EXISTS (SELECT 1 FROM " + stage + " AS s WHERE " + full_row(spec, "s") + " AND " +
         key_match(spec, "s", "t") + ")";
}

}  // namespace

std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                         const std::string& unseen) {
  return "UPDATE " + target + " AS t SET removed_at = $2, last_changed_at = now()\n"
         "WHERE " + removal_candidates(stage, spec, unseen);
}

namespace {

// What a change event needs of a row; both data sets have these columns.
constexpr const char* event_columns =
    "t.tenant, t.device_id, t.device_name, t.software_vendor, t.software_name, t.software_version";

// Ranks appeared (or removed) rows within their (tenant, device, vendor, name),
// oldest version first: the n-th appeared version pairs with the n-th removed one,
// so two lines side by side (JRE 8 and 17, both updated) pair 8 with 8 and 17 with 17.
std::string ranked(const std::string& from, const ChangeLog& log) {
  return "SELECT r.*, " + log.version_key + "(r.software_version) AS k, row_number() OVER ("
         "PARTITION BY r.tenant, r.device_id, r.software_vendor, r.software_name ORDER BY " +
         log.version_key + "(r.software_version), r.software_version COLLATE \"C\") AS n FROM " + from +
         " AS r";
}

// The shared statement. `gone` is the data-modifying CTE of removed rows, or
// NULL for none. Every CTE sees the table as it was before the statement (one
// snapshot): that is how `appeared` knows whether an upserted key existed and
// was removed. Pairing: a = appeared keys, g = removed keys; a full join on
// (tenant, device, vendor, name, rank) turns a pair into one upgrade or downgrade.
std::string recording_changes(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                              const ChangeLog& log, const std::string& gone, const std::string& run_param) {
  const std::string removed_count = gone.empty() ? "0" : "(SELECT count(*) FROM gone)";
  return "WITH up AS (\n" + upsert(target, stage, spec) + "\nRETURNING " + event_columns + "\n),\n" +
         (gone.empty() ? std::string() : "gone AS (\n" + gone + "\nRETURNING " + event_columns + "\n),\n") +
         "appeared AS (\n"
         "SELECT up.*, CASE WHEN o.tenant IS NULL THEN 'installed' ELSE 'reinstalled' END AS change\n"
         "FROM up LEFT JOIN " + target + " AS o ON " + key_match(spec, "o", "up") + "\n"
         "WHERE o.tenant IS NULL OR o.removed_at IS NOT NULL\n),\n"
         "a AS (" + ranked("appeared", log) + "),\n"
         "g AS (" + (gone.empty() ? std::string("SELECT * FROM a WHERE false") : ranked("gone", log)) + "),\n"
         "logged AS (\n"
         "INSERT INTO " + log.table + " (tenant, dataset, device_id, device_name, software_vendor, software_name,"
         " old_version, new_version, change, observed_at, run_id)\n"
         "SELECT coalesce(a.tenant, g.tenant), '" + std::string(spec.name) + "', coalesce(a.device_id, g.device_id),"
         " coalesce(a.device_name, g.device_name), coalesce(a.software_vendor, g.software_vendor),"
         " coalesce(a.software_name, g.software_name), g.software_version, a.software_version,\n"
         "CASE WHEN g.n IS NULL THEN a.change WHEN a.n IS NULL THEN 'removed'"
         " WHEN (a.k, a.software_version COLLATE \"C\") > (g.k, g.software_version COLLATE \"C\") THEN 'upgraded'"
         " ELSE 'downgraded' END,\n"
         "now(), " + run_param + "::bigint\n"
         "FROM a FULL JOIN g ON a.tenant = g.tenant AND a.device_id = g.device_id"
         " AND a.software_vendor = g.software_vendor AND a.software_name = g.software_name AND a.n = g.n\n"
         "RETURNING 1\n)\n"
         "SELECT (SELECT count(*) FROM up), " + removed_count + ", (SELECT count(*) FROM logged)";
}

}  // namespace

std::string upsert_recording_changes(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec, const ChangeLog& log) {
  return recording_changes(target, stage, spec, log, "", "$1");
}

std::string apply_snapshot_recording_changes(const std::string& target, const std::string& stage,
                                             const model::DatasetSpec& spec, const ChangeLog& log,
                                             const std::string& unseen) {
  return recording_changes(target, stage, spec, log, mark_removed(target, stage, spec, unseen), "$3");
}

std::string count_removal_candidates(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec, const std::string& unseen) {
  return "SELECT count(*) FROM " + target + " AS t\nWHERE " + removal_candidates(stage, spec, unseen);
}

std::string insert_new_tenant(const std::string& target, const std::string& stage, const model::DatasetSpec& spec) {
  const std::string cols = copy_columns(spec);
  return "INSERT INTO " + target + " (" + cols + ", first_synced_at, last_changed_at, removed_at)\n"
         "SELECT " + cols + ", now(), now(), NULL::timestamptz FROM " + stage + " AS s WHERE " + full_row(spec, "s");
}

}  // namespace mdesync::store::sql
