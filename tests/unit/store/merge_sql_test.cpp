#include <gtest/gtest.h>

#include "store/identifiers.hpp"
#include "store/merge_sql.hpp"

namespace mdesync::store {
namespace {

TEST(QuoteIdentifier, DoublesEmbeddedQuotes) {
  EXPECT_EQ(quote_identifier("mde"), "\"mde\"");
  EXPECT_EQ(quote_identifier("we\"ird"), "\"we\"\"ird\"");
  EXPECT_EQ(quote_identifier("a;DROP TABLE x"), "\"a;DROP TABLE x\"");
  EXPECT_EQ(qualified("s", "t"), "\"s\".\"t\"");
}

TEST(MergeSql, CopyColumnsFollowTheModelOrderWithTenantFirst) {
  EXPECT_EQ(sql::copy_columns(model::spec(model::Dataset::noncpe)),
            "tenant, device_id, rbac_group_id, rbac_group_name, device_name, os_platform, software_vendor, "
            "software_name, software_version, software_last_seen_timestamp, extra_fields, row_digest");
}

TEST(MergeSql, MarkersInTheStageAreNeverMergedNorMatched) {
  const auto& spec = model::spec(model::Dataset::noncpe);
  EXPECT_NE(sql::upsert("t", "stage", spec).find("FROM stage AS s WHERE s.software_version IS NOT NULL"), std::string::npos);
  EXPECT_NE(sql::insert_new_tenant("t", "stage", spec).find("WHERE s.software_version IS NOT NULL"), std::string::npos);
  EXPECT_NE(sql::mark_removed("t", "stage", spec).find("WHERE s.software_version IS NOT NULL AND s.tenant = t.tenant"),
            std::string::npos);
}

TEST(MergeSql, UnseenDigestsNarrowTheRemovalLookup) {
  const auto& spec = model::spec(model::Dataset::cpe);
  const std::string without = sql::mark_removed("t", "stage", spec);
  const std::string with = sql::mark_removed("t", "stage", spec, "pg_temp.unseen");
  EXPECT_EQ(without.find("row_digest"), std::string::npos);
  // Rows without a digest (written before migration 0004) are always looked up:
  // they match the sentinel, in one IN that PostgreSQL plans as a semi join.
  EXPECT_NE(with.find("AND coalesce(t.row_digest, '00000000-0000-0000-0000-000000000000'::uuid) IN (SELECT "
                      "row_digest FROM pg_temp.unseen)"),
            std::string::npos);
  EXPECT_EQ(with.find(" OR "), std::string::npos);
  // Digests from the bound on (not loaded) match the bound.
  const std::string bounded = sql::mark_removed("t", "stage", spec, "pg_temp.unseen", "now()",
                                                "40000000-0000-0000-0000-000000000000");
  EXPECT_NE(bounded.find("AND least(coalesce(t.row_digest, '00000000-0000-0000-0000-000000000000'::uuid), "
                         "'40000000-0000-0000-0000-000000000000'::uuid) IN (SELECT row_digest FROM pg_temp.unseen)"),
            std::string::npos);
}

TEST(MergeSql, ADigestOnlyDifferenceFillsTheDigestWithoutCountingAsAChange) {
  const auto text = sql::upsert("t", "stage", model::spec(model::Dataset::noncpe));
  EXPECT_NE(text.find("row_digest = excluded.row_digest"), std::string::npos);
  EXPECT_NE(text.find("last_changed_at = CASE WHEN"), std::string::npos);
  // A row stored before 0004 (no digest) or 0005 (digest over a line without
  // extra_fields) gets the new digest once.
  EXPECT_NE(text.find(" OR t.row_digest IS DISTINCT FROM excluded.row_digest"), std::string::npos);
}

TEST(MergeSql, UpsertCollapsesDuplicatesLastWinsAndSkipsUnchangedRows) {
  const auto text = sql::upsert("\"s\".\"t\"", "stage", model::spec(model::Dataset::noncpe));
  EXPECT_NE(text.find("SELECT DISTINCT ON (tenant, device_id, software_vendor, software_name, software_version)"),
            std::string::npos);
  EXPECT_NE(text.find("ORDER BY tenant, device_id, software_vendor, software_name, software_version, ord DESC"),
            std::string::npos);
  EXPECT_NE(text.find("ON CONFLICT (tenant, device_id, software_vendor, software_name, software_version)"),
            std::string::npos);
  // Key columns never appear in the SET list; every other column does.
  EXPECT_EQ(text.find("device_id = excluded.device_id"), std::string::npos);
  EXPECT_NE(text.find("rbac_group_id = excluded.rbac_group_id"), std::string::npos);
  EXPECT_NE(text.find("IS DISTINCT FROM"), std::string::npos);
}

TEST(MergeSql, RecordingChangesIsOneStatementWithTheUpsertAndItsEvents) {
  const sql::ChangeLog log{"\"s\".\"software_changes\"", "\"s\".\"version_sort_key\""};
  const auto up = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::cpe), log, {.events = true});
  EXPECT_EQ(up.rfind("WITH up AS (", 0), 0u);
  EXPECT_EQ(up.find("gone AS"), std::string::npos);  // incremental pages never remove
  EXPECT_NE(up.find("INSERT INTO \"s\".\"software_changes\""), std::string::npos);
  EXPECT_NE(up.find("'cpe'"), std::string::npos);
  EXPECT_NE(up.find("$1::bigint"), std::string::npos);
  EXPECT_EQ(up.find("device_gone"), std::string::npos);  // without log.devices, only row-level kinds
  const auto snap = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::noncpe), log,
                               {.remove = true, .events = true});
  EXPECT_NE(snap.find("gone AS (\nUPDATE \"s\".\"t\" AS t SET removed_at = $2"), std::string::npos);
  EXPECT_NE(snap.find("FROM a FULL JOIN g"), std::string::npos);  // upgrades pair an appeared and a removed key
  EXPECT_NE(snap.find("$3::bigint"), std::string::npos);
}

TEST(MergeSql, BeforeTheBaselineAMergeRecordsNoEventsButKeepsTheDevices) {
  const sql::ChangeLog log{"\"s\".\"software_changes\"", "\"s\".\"version_sort_key\"", "\"s\".\"device_presence\"",
                           "\"s\".\"sync_state\""};
  const auto first = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::cpe), log,
                                {.remove = true, .events = false});
  EXPECT_EQ(first.find("software_changes"), std::string::npos);
  EXPECT_EQ(first.find("$3"), std::string::npos);  // no run parameter without events
  EXPECT_NE(first.find("INSERT INTO \"s\".\"device_presence\""), std::string::npos);
  const auto later = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::cpe), log,
                                {.remove = true, .events = true});
  EXPECT_NE(later.find("'device_gone'"), std::string::npos);
  EXPECT_NE(later.find("'device_returned'"), std::string::npos);
}

TEST(MergeSql, OnCitusNewKeysComeFromTheStageBeforeTheUpsertAndTheTimeIsALiteral) {
  const sql::ChangeLog log{"\"s\".\"software_changes\"", "\"s\".\"version_sort_key\"", "\"s\".\"device_presence\"",
                           "\"s\".\"sync_state\""};
  const std::string now = "'2026-12-04 10:00:00+00'::timestamptz";
  const auto text = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::cpe), log,
                               {.remove = true, .events = true, .now = now, .distributed = true});
  // Citus runs each CTE on its own: the new keys must be found before the upsert writes them.
  EXPECT_EQ(text.rfind("WITH appeared AS MATERIALIZED (", 0), 0u);
  EXPECT_LT(text.find("FROM stage AS s LEFT JOIN \"s\".\"t\" AS o"), text.find("up AS ("));
  EXPECT_EQ(text.find("FROM up LEFT JOIN"), std::string::npos);
  // Only the touched devices are looked up, as a filter the workers apply.
  EXPECT_NE(text.find("(p.tenant, p.device_id) IN (SELECT tenant, device_id FROM touched)"), std::string::npos);
  // No function Citus refuses in DO UPDATE SET.
  EXPECT_EQ(text.find("now()"), std::string::npos);
  EXPECT_NE(text.find("THEN " + now + " ELSE t.last_changed_at"), std::string::npos);
  // The same statement on plain PostgreSQL reads the upsert's result instead.
  const auto plain = sql::merge("\"s\".\"t\"", "stage", model::spec(model::Dataset::cpe), log,
                                {.remove = true, .events = true});
  EXPECT_EQ(plain.rfind("WITH up AS (", 0), 0u);
  EXPECT_NE(plain.find("FROM up LEFT JOIN LATERAL"), std::string::npos);
}

TEST(MergeSql, StagingColumnsCarryTheColumnTypes) {
  const auto cols = sql::staging_columns(model::spec(model::Dataset::cpe));
  EXPECT_NE(cols.find("number_of_weaknesses integer"), std::string::npos);
  EXPECT_NE(cols.find("disk_paths text[]"), std::string::npos);
  EXPECT_NE(cols.find("end_of_support_date timestamptz"), std::string::npos);
}

}  // namespace
}  // namespace mdesync::store
