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
  return out;
}

std::string copy_columns(const model::DatasetSpec& spec) {
  std::string out = "tenant";
  for (const auto& c : spec.columns) out += ", " + std::string(c.sql_name);
  return out;
}

std::string copy_from_stdin(const std::string& table, const model::DatasetSpec& spec) {
  return "COPY " + table + " (" + copy_columns(spec) + ") FROM STDIN";
}

std::string upsert(const std::string& target, const std::string& stage, const model::DatasetSpec& spec) {
  const std::string cols = copy_columns(spec);
  std::string set, old_values, new_values;
  for (const auto& c : spec.columns) {
    if (c.key) continue;
    const std::string n(c.sql_name);
    set += n + " = excluded." + n + ", ";
    old_values += "t." + n + ", ";
    new_values += "excluded." + n + ", ";
  }
  return "INSERT INTO " + target + " AS t (" + cols + ", first_synced_at, last_changed_at, removed_at)\n"
         "SELECT DISTINCT ON (" + key_columns(spec, "") + ") " + cols + ", now(), now(), NULL::timestamptz\n"
         "FROM " + stage + "\n"
         "ORDER BY " + key_columns(spec, "") + ", ord DESC\n"
         "ON CONFLICT (" + key_columns(spec, "") + ") DO UPDATE SET " + set +
         "last_changed_at = now(), removed_at = NULL\n"
         "WHERE (" + old_values + "t.removed_at IS NULL) IS DISTINCT FROM (" + new_values + "true)";
}

std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec) {
  return "UPDATE " + target + " AS t SET removed_at = $2, last_changed_at = now()\n"
         "WHERE t.tenant = $1 AND t.removed_at IS NULL\n"
         "AND NOT EXISTS (SELECT 1 FROM " + stage + " AS s WHERE " + key_match(spec, "s", "t") + ")";
}

std::string count_removal_candidates(const std::string& target, const std::string& stage,
                                     const model::DatasetSpec& spec) {
  return "SELECT count(*) FROM " + target + " AS t\n"
         "WHERE t.tenant = $1 AND t.removed_at IS NULL\n"
         "AND NOT EXISTS (SELECT 1 FROM " + stage + " AS s WHERE " + key_match(spec, "s", "t") + ")";
}

}  // namespace mdesync::store::sql
