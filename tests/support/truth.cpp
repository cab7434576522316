#include "support/truth.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

const char* json_type(model::ColumnType t) {
  switch (t) {
    case model::ColumnType::text: return "text";
    case model::ColumnType::integer: return "integer";
    case model::ColumnType::timestamptz: return "timestamptz";
    case model::ColumnType::text_array: return "jsonb";
  }
  return "text";
}

}  // namespace

TruthDiff compare_with_truth(const std::string& schema, const std::string& tenant, model::Dataset ds,
                             const std::string& truth_json) {
  const auto& spec = model::spec(ds);
  std::string record_type, truth_cols, table_cols;
  for (const auto& c : spec.columns) {
    const std::string j = "x.\"" + std::string(c.json_name) + "\"";
    if (!record_type.empty()) record_type += ", ";
    record_type += "\"" + std::string(c.json_name) + "\" " + json_type(c.type);
    truth_cols += ", ";
    table_cols += ", ";
    if (c.key) {
      truth_cols += "coalesce(" + j + ", '')";
    } else if (c.type == model::ColumnType::text_array) {
      truth_cols += "CASE WHEN " + j + " IS NULL OR jsonb_typeof(" + j +
                    ") = 'null' THEN NULL ELSE ARRAY(SELECT jsonb_array_elements_text(" + j + "))::text[] END";
    } else {
      truth_cols += j;
    }
    truth_cols += " AS " + std::string(c.sql_name);
    table_cols += std::string(c.sql_name);
  }
  pqxx::connection conn(database_url());
  pqxx::work tx(conn);
  tx.exec("SET LOCAL TimeZone = 'UTC'");
  // On the Citus back end, what is compared must be what Citus holds.
  if (on_citus_backend())
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = to_regclass(" +
                       tx.quote("\"" + schema + "\"." + std::string(spec.table)) + ") AND partmethod = 'h'")[0]
                  .as<int>(),
              1)
        << schema << "." << spec.table << " is not distributed";
  const std::string table = tx.quote_name(schema) + "." + tx.quote_name(std::string(spec.table));
  tx.exec_params("CREATE TEMP TABLE truth ON COMMIT DROP AS SELECT $2::text AS tenant" + truth_cols +
                     " FROM jsonb_to_recordset($1::jsonb) AS x(" + record_type + ")",
                 truth_json, tenant);
  tx.exec_params("CREATE TEMP TABLE current ON COMMIT DROP AS SELECT tenant" + table_cols + " FROM " + table +
                     " WHERE tenant = $1 AND removed_at IS NULL",
                 tenant);
  TruthDiff d;
  d.truth_rows = tx.exec1("SELECT count(*) FROM truth")[0].as<long long>();
  d.table_rows = tx.exec1("SELECT count(*) FROM current")[0].as<long long>();
  d.missing_count = tx.exec1("SELECT count(*) FROM (SELECT * FROM truth EXCEPT ALL SELECT * FROM current) d")[0].as<long long>();
  d.extra_count = tx.exec1("SELECT count(*) FROM (SELECT * FROM current EXCEPT ALL SELECT * FROM truth) d")[0].as<long long>();
  for (const auto& r : tx.exec("SELECT d::text FROM (SELECT * FROM truth EXCEPT ALL SELECT * FROM current) d LIMIT 5"))
    d.missing.push_back(r[0].as<std::string>());
  for (const auto& r : tx.exec("SELECT d::text FROM (SELECT * FROM current EXCEPT ALL SELECT * FROM truth) d LIMIT 5"))
    d.extra.push_back(r[0].as<std::string>());
  tx.commit();
  return d;
}

}  // namespace mdesync::testing
