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
  // The last key column: a marker keeps its device id (see digest_lines.hpp).
  for (auto c = spec.columns.rbegin(); c != spec.columns.rend(); ++c)
    if (c->key) return std::string(alias) + "." + std::string(c->sql_name) + " IS NOT NULL";
  return "true";
}

std::string copy_from_stdin(const std::string& table, const model::DatasetSpec& spec) {
  return "COPY " + table + " (" + copy_columns(spec) + ") FROM STDIN";
}

std::string upsert(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                   const std::string& now) {
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
         "SELECT DISTINCT ON (" + key_columns(spec, "") + ") " + cols + ", " + now + ", " + now + ", NULL::timestamptz\n"
         "FROM " + stage + " AS s WHERE " + full_row(spec, "s") + "\n"
         "ORDER BY " + key_columns(spec, "") + ", ord DESC\n"
         "ON CONFLICT (" + key_columns(spec, "") + ") DO UPDATE SET " + set +
         "row_digest = excluded.row_digest,\n"
         "last_changed_at = CASE WHEN " + changed + " THEN " + now + " ELSE t.last_changed_at END, removed_at = NULL\n"
         "WHERE " + changed + " OR t.row_digest IS DISTINCT FROM excluded.row_digest";
}

namespace {

// Rows of tenant $1 that the snapshot no longer lists. With `unseen` (the digests
// of known rows the snapshot did not repeat unchanged), only those rows, rows
// without a digest and rows with a digest from `unloaded_from` on need the key
// lookup in the stage.
//
// The test is one IN with the row's digest folded so that those last two land
// on sentinels in `unseen` (no_digest_sentinel, the bound): a plain IN becomes a semi
// join, which is linear at any size. "digest IS NULL OR digest IN (...)" was a
// subplan instead, hashed only while `unseen` fits in work_mem: at 10 million
// rows and 3.5% unseen it scanned `unseen` once per row.
std::string removal_candidates(const std::string& stage, const model::DatasetSpec& spec, const std::string& unseen,
                               const std::string& unloaded_from) {
  std::string digest = "coalesce(t.row_digest, '" + std::string(no_digest_sentinel) + "'::uuid)";
  if (!unloaded_from.empty()) digest = "least(" + digest + ", '" + unloaded_from + "'::uuid)";
  return "t.tenant = $1 AND t.removed_at IS NULL\n" +
         (unseen.empty() ? std::string() : "AND " + digest + " IN (SELECT row_digest FROM " + unseen + ")\n") +
         "AND NOT EXISTS (SELECT 1 FROM " + stage + " AS s WHERE " + full_row(spec, "s") + " AND " +
         key_match(spec, "s", "t") + ")";
}

}  // namespace

std::string mark_removed(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                         const std::string& unseen, const std::string& now, const std::string& unloaded_from) {
  return "UPDATE " + target + " AS t SET removed_at = $2, last_changed_at = " + now + "\n"
         "WHERE " + removal_candidates(stage, spec, unseen, unloaded_from);
}

namespace {

// What a change event and the device bookkeeping need of a row; both data sets
// have these columns.
std::string event_columns(const std::string& alias) {
  std::string out;
  for (const char* c : {"tenant", "device_id", "device_name", "os_platform", "rbac_group_name", "software_vendor",
                        "software_name", "software_version"})
    out += (out.empty() ? "" : ", ") + alias + "." + c;
  return out;
}

// Ranks appeared (or removed) rows within their (tenant, device, vendor, name),
// oldest version first: the n-th appeared version pairs with the n-th removed one,
// so two lines side by side (JRE 8 and 17, both updated) pair 8 with 8 and 17 with 17.
std::string ranked(const std::string& from, const ChangeLog& log) {
  return "SELECT r.*, " + log.version_key + "(r.software_version) AS k, row_number() OVER ("
         "PARTITION BY r.tenant, r.device_id, r.software_vendor, r.software_name ORDER BY " +
         log.version_key + "(r.software_version), r.software_version COLLATE \"C\") AS n FROM " + from +
         " AS r";
}

std::string quoted_literal(std::string_view s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// The device bookkeeping: `dev` is every device the statement touched, with its
// rows before (p.software) and after (software), and `present` writes the devices
// whose names or count changed (with `returned`: every device the page sent)
// into log.devices. A device is gone when a full snapshot took its last row away
// and brought none (software = 0 after, fewer before); it has returned when a row
// of a gone device came back (gone_before). `sent` are the rows the API sent:
// the page's staged rows for an incremental pull, else the rows the upsert wrote
// (a snapshot's unchanged rows, staged as markers or not, tell nothing new).
// Invariant: device_presence.software is the device's number of current rows;
// every statement that changes the rows (this one, first_load_devices) keeps it.
std::string device_ctes(const std::string& stage, const model::DatasetSpec& spec, const ChangeLog& log,
                        const MergeSteps& steps) {
  const std::string dataset = quoted_literal(spec.name);
  const std::string sent = steps.returned ? stage + " AS s WHERE " + full_row(spec, "s") : std::string("up AS s");
  return "touched AS (\n"
         "SELECT s.tenant, s.device_id, s.device_name, s.os_platform, s.rbac_group_name, true AS sent, 0 AS came,"
         " 0 AS went FROM " + sent + "\n"
         "UNION ALL SELECT tenant, device_id, NULL, NULL, NULL, false, 1, 0 FROM appeared\n" +
         (steps.remove ? "UNION ALL SELECT tenant, device_id, device_name, os_platform, rbac_group_name, false, 0, 1"
                         " FROM gone\n"
                       : "") +
         "),\n"
         "dev AS (\n"
         "SELECT d.*, p.tenant IS NOT NULL AS known, p.gone_at AS gone_before,"
         " coalesce(p.software, 0) + d.came - d.went AS software,\n"
         "(p.device_name, p.os_platform, p.rbac_group_name, p.software) IS DISTINCT FROM"
         " (d.device_name, d.os_platform, d.rbac_group_name, coalesce(p.software, 0) + d.came - d.went) AS differs\n"
         "FROM (SELECT tenant, device_id,"
         " coalesce(max(device_name) FILTER (WHERE sent), max(device_name)) AS device_name,"
         " coalesce(max(os_platform) FILTER (WHERE sent), max(os_platform)) AS os_platform,"
         " coalesce(max(rbac_group_name) FILTER (WHERE sent), max(rbac_group_name)) AS rbac_group_name,"
         " bool_or(sent) AS sent, sum(came) AS came, sum(went) AS went\n"
         "FROM touched GROUP BY tenant, device_id) AS d\n"
         "LEFT JOIN " +
         (steps.distributed ? "(SELECT * FROM " + log.devices + " AS p WHERE p.dataset = " + dataset +
                                  " AND (p.tenant, p.device_id) IN (SELECT tenant, device_id FROM touched))"
                            : log.devices) +
         " AS p ON p.tenant = d.tenant AND p.device_id = d.device_id AND p.dataset = " + dataset + "\n),\n"
         "present AS (\n"
         "INSERT INTO " + log.devices + " AS p (tenant, device_id, dataset, device_name, os_platform,"
         " rbac_group_name, software, first_seen_at, last_returned_at, last_listed_at, gone_at, changed_at)\n"
         "SELECT tenant, device_id, " + dataset + ", device_name, os_platform, rbac_group_name, software, " + steps.now + ", " +
         (steps.returned ? "CASE WHEN sent THEN " + steps.now + " END" : "NULL::timestamptz") + ",\n" +
         (steps.remove && !log.state.empty()
              ? "CASE WHEN software = 0 THEN (SELECT last_snapshot_at FROM " + log.state +
                    " WHERE tenant = $1 AND dataset = " + dataset + ") END"
              : std::string("NULL::timestamptz")) +
         ", " + (steps.remove ? "CASE WHEN software = 0 THEN $2::timestamptz END" : "NULL::timestamptz") +
         ", " + steps.now + "\n"
         "FROM dev WHERE differs" + (steps.returned ? " OR sent" : "") + "\n"
         "ON CONFLICT (tenant, device_id, dataset) DO UPDATE SET device_name = excluded.device_name,"
         " os_platform = excluded.os_platform, rbac_group_name = excluded.rbac_group_name,"
         " software = excluded.software,"
         " last_returned_at = coalesce(excluded.last_returned_at, p.last_returned_at),\n"
         "last_listed_at = CASE WHEN excluded.software = 0 THEN coalesce(excluded.last_listed_at, p.last_listed_at) END,"
         " gone_at = CASE WHEN excluded.software = 0 THEN coalesce(excluded.gone_at, p.gone_at) END,\n"
         "changed_at = CASE WHEN (p.device_name, p.os_platform, p.rbac_group_name, p.software) IS DISTINCT FROM"
         " (excluded.device_name, excluded.os_platform, excluded.rbac_group_name, excluded.software)"
         " THEN " + steps.now + " ELSE p.changed_at END\n"
         "RETURNING 1\n),\n";
}

// The change events. a = appeared keys, g = removed keys; a full join on
// (tenant, device, vendor, name, rank) turns a pair into one upgrade or downgrade.
// A device that vanished has no appeared key and one that came back no removed
// one, so neither is ever part of a pair.
std::string events_cte(const model::DatasetSpec& spec, const ChangeLog& log, const MergeSteps& steps,
                       const std::string& run_param) {
  const bool devices = !log.devices.empty();
  return "a AS (" + ranked("appeared", log) + "),\n"
         "g AS (" + (steps.remove ? ranked("gone", log) : std::string("SELECT * FROM a WHERE false")) + "),\n"
         "logged AS (\n"
         "INSERT INTO " + log.table + " (tenant, dataset, device_id, device_name, software_vendor, software_name,"
         " old_version, new_version, change, observed_at, run_id)\n"
         "SELECT coalesce(a.tenant, g.tenant), " + quoted_literal(spec.name) + ", coalesce(a.device_id, g.device_id),"
         " coalesce(a.device_name, g.device_name), coalesce(a.software_vendor, g.software_vendor),"
         " coalesce(a.software_name, g.software_name), g.software_version, a.software_version,\n"
         "CASE WHEN g.n IS NULL THEN " +
         (devices ? "CASE WHEN d.gone_before IS NOT NULL THEN 'device_returned' ELSE a.change END"
                  : std::string("a.change")) +
         " WHEN a.n IS NULL THEN " +
         (devices ? "CASE WHEN d.software = 0 THEN 'device_gone' ELSE 'removed' END" : std::string("'removed'")) +
         " WHEN (a.k, a.software_version COLLATE \"C\") > (g.k, g.software_version COLLATE \"C\") THEN 'upgraded'"
         " ELSE 'downgraded' END,\n" +
         steps.now + ", " + run_param + "::bigint\n"
         "FROM a FULL JOIN g ON a.tenant = g.tenant AND a.device_id = g.device_id"
         " AND a.software_vendor = g.software_vendor AND a.software_name = g.software_name AND a.n = g.n\n" +
         (devices ? "LEFT JOIN dev AS d ON d.tenant = coalesce(a.tenant, g.tenant)"
                    " AND d.device_id = coalesce(a.device_id, g.device_id)\n"
                  : "") +
         "RETURNING change\n),\n";
}

}  // namespace

std::string merge(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                  const ChangeLog& log, const MergeSteps& steps) {
  const std::string run_param = steps.remove ? "$3" : "$1";
  const bool devices = !log.devices.empty();
  // "appeared" is needed by the events and the device counts alike.
  const std::string change = "CASE WHEN o.tenant IS NULL THEN 'installed' ELSE 'reinstalled' END AS change\n";
  std::string sql = "WITH ";
  // Found before the upsert writes: the last staged row of each key that is new
  // or was removed, which is what the upsert inserts or brings back.
  if (steps.distributed)
    sql += "appeared AS MATERIALIZED (\n"
           "SELECT DISTINCT ON (" + key_columns(spec, "s.") + ") " + event_columns("s") + ", " + change +
           "FROM " + stage + " AS s LEFT JOIN " + target + " AS o ON " + key_match(spec, "o", "s") + "\n"
           "WHERE " + full_row(spec, "s") + " AND (o.tenant IS NULL OR o.removed_at IS NOT NULL)\n"
           "ORDER BY " + key_columns(spec, "s.") + ", s.ord DESC\n),\n";
  sql += "up AS (\n" + upsert(target, stage, spec, steps.now) + "\nRETURNING " + event_columns("t") + "\n),\n";
  if (steps.remove)
    sql += "gone AS (\n" + mark_removed(target, stage, spec, steps.unseen, steps.now, steps.unloaded_from) + "\nRETURNING " +
           event_columns("t") + "\n),\n";
  // One primary-key lookup per written row (LIMIT 1 keeps the planner from
  // hashing the whole table for a few thousand rows); it sees the table as it
  // was before the statement.
  if (!steps.distributed)
    sql += "appeared AS (\n"
           "SELECT up.*, " + change +
           "FROM up LEFT JOIN LATERAL (SELECT o.tenant, o.removed_at FROM " + target + " AS o WHERE " +
           key_match(spec, "o", "up") + " LIMIT 1) AS o ON true\n"
           "WHERE o.tenant IS NULL OR o.removed_at IS NOT NULL\n),\n";
  if (devices) sql += device_ctes(stage, spec, log, steps);
  if (steps.events) sql += events_cte(spec, log, steps, run_param);
  // The last CTE's trailing ",\n" becomes the main SELECT's start.
  sql.resize(sql.size() - 2);
  sql += "\nSELECT (SELECT count(*) FROM up), " + std::string(steps.remove ? "(SELECT count(*) FROM gone)" : "0") +
         ", " + (steps.events ? "(SELECT count(*) FROM logged)" : "0") + ", " +
         (steps.events ? "(SELECT json_object_agg(change, n ORDER BY change) FROM"
                         " (SELECT change, count(*) AS n FROM logged GROUP BY change) AS kinds)"
                       : "NULL::json");
  return sql;
}

std::string first_load_devices(const std::string& stage, const model::DatasetSpec& spec, const ChangeLog& log,
                               const std::string& now) {
  return "INSERT INTO " + log.devices + " AS p (tenant, device_id, dataset, device_name, os_platform,"
         " rbac_group_name, software, first_seen_at, changed_at)\n"
         "SELECT tenant, device_id, " + quoted_literal(spec.name) + ", max(device_name), max(os_platform),"
         " max(rbac_group_name), count(*), " + now + ", " + now + "\n"
         "FROM " + stage + " AS s WHERE " + full_row(spec, "s") + " GROUP BY tenant, device_id\n"
         "ON CONFLICT (tenant, device_id, dataset) DO UPDATE SET device_name = excluded.device_name,"
         " os_platform = excluded.os_platform, rbac_group_name = excluded.rbac_group_name,"
         " software = excluded.software, last_listed_at = NULL, gone_at = NULL, changed_at = " + now;
}

std::string insert_new_tenant(const std::string& target, const std::string& stage, const model::DatasetSpec& spec,
                              const std::string& now) {
  const std::string cols = copy_columns(spec);
  return "INSERT INTO " + target + " (" + cols + ", first_synced_at, last_changed_at, removed_at)\n"
         "SELECT " + cols + ", " + now + ", " + now + ", NULL::timestamptz FROM " + stage + " AS s WHERE " + full_row(spec, "s");
}

}  // namespace mdesync::store::sql
