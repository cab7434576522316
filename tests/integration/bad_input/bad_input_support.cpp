#include "bad_input_support.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "http/client.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing::bad_input {

std::vector<std::string> unpaced(std::vector<std::string> more_flags) {
  std::vector<std::string> flags = {"--json-per-minute", "0",   "--json-per-hour", "0", "--export-per-minute", "0",
                                    "--export-per-hour", "0"};
  flags.insert(flags.end(), more_flags.begin(), more_flags.end());
  return flags;
}

ConfigOptions unpaced_config(const std::string& schema, const std::string& full_via) {
  ConfigOptions o{.schema = schema, .full_via = full_via, .page_size = 1000};
  o.extra_sync = "  download_concurrency: 2\n";
  o.extra = "limits:\n  json_per_minute: 100000\n  json_per_hour: 1000000\n"
            "  export_per_minute: 100000\n  export_per_hour: 1000000\n";
  return o;
}

std::vector<InjectedPage> interleave(model::Dataset ds, const std::vector<const Case*>& cases,
                                     std::size_t cases_per_page, const std::string& tag) {
  std::vector<InjectedPage> pages;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    if (i % cases_per_page == 0) pages.emplace_back();
    auto& page = pages.back();
    page.neighbours.push_back(plain(ds, tag + "-p" + std::to_string(pages.size() - 1) + "-n" +
                                            std::to_string(page.cases.size())));
    page.cases.push_back(cases[i]);
  }
  for (auto& page : pages)
    page.neighbours.push_back(plain(ds, tag + "-p" + std::to_string(&page - pages.data()) + "-last"));
  return pages;
}

std::string injection_body(const std::vector<InjectedPage>& pages) {
  std::string body;
  for (const auto& page : pages) {
    body += "#page\n";
    for (std::size_t i = 0; i < page.cases.size(); ++i)
      body += page.neighbours[i].record + "\n" + page.cases[i]->record + "\n";
    body += page.neighbours.back().record + "\n";
  }
  return body;
}

namespace {

// A column read back in corpus.hpp's Value form.
std::string column_sql(const model::Column& c) {
  const std::string n(c.sql_name);
  switch (c.type) {
    case model::ColumnType::text: return n;
    case model::ColumnType::integer:
    case model::ColumnType::timestamptz: return n + "::text";
    case model::ColumnType::text_array:
      return "CASE WHEN " + n + " IS NULL THEN NULL ELSE coalesce((SELECT string_agg(coalesce('x' || "
             "encode(convert_to(e, 'UTF8'), 'hex'), 'N'), ',' ORDER BY i) FROM unnest(" + n +
             ") WITH ORDINALITY AS u(e, i)), '') END";
  }
  return n;
}

std::string table(const std::string& schema, model::Dataset ds) {
  return "\"" + schema + "\"." + std::string(model::spec(ds).table);
}

// Rows of the tenant "contoso"; `where` narrows them down, with $1 as its parameter.
std::map<std::string, Row> select_rows(const std::string& schema, model::Dataset ds, const std::string& where,
                                       const std::string& param) {
  const auto& columns = model::spec(ds).columns;
  std::string sql = "SELECT ";
  for (std::size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + column_sql(columns[i]);
  sql += ", extra_fields::text FROM " + table(schema, ds) + " WHERE tenant = 'contoso' AND removed_at IS NULL AND " + where;
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  tx.exec("SET TimeZone TO 'UTC'");
  std::map<std::string, Row> rows;
  for (const auto& r : tx.exec_params(sql, param)) {
    Row row;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto f = r[static_cast<int>(i)];
      row[std::string(columns[i].sql_name)] = f.is_null() ? Value() : Value(f.as<std::string>());
    }
    const auto extra = r[static_cast<int>(columns.size())];
    row["extra_fields"] = extra.is_null() ? Value() : Value(extra.as<std::string>());
    const std::string id = *row.at("device_id");
    EXPECT_TRUE(rows.emplace(id, std::move(row)).second) << "two rows for " << id;
  }
  return rows;
}

}  // namespace

Row with_jsonb(Row expect) {
  auto& extra = expect["extra_fields"];
  if (extra) {
    pqxx::connection c(database_url());
    pqxx::nontransaction tx(c);
    extra = tx.exec_params1("SELECT $1::jsonb::text", *extra)[0].as<std::string>();
  }
  return expect;
}

std::optional<Row> stored_row(const std::string& schema, model::Dataset ds, const std::string& device_id) {
  auto rows = select_rows(schema, ds, "device_id = $1", device_id);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.begin()->second);
}

std::map<std::string, Row> stored_rows(const std::string& schema, model::Dataset ds) {
  return select_rows(schema, ds, "device_id LIKE $1", "bi-%");
}

Run last_run(const std::string& schema, model::Dataset ds) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  const auto r = tx.exec_params("SELECT status, rows_received, rows_upserted, rows_rejected, coalesce(error, '') "
                                "FROM \"" + schema + "\".sync_runs WHERE dataset = $1 ORDER BY id DESC LIMIT 1",
                                std::string(model::spec(ds).name));
  Run run;
  if (r.empty()) return run;
  run.status = r[0][0].as<std::string>();
  run.received = r[0][1].as<long long>();
  run.upserted = r[0][2].as<long long>();
  run.rejected = r[0][3].as<long long>();
  run.error = r[0][4].as<std::string>();
  return run;
}

std::string watermark(const std::string& schema, model::Dataset ds) {
  return query_value("SELECT coalesce((SELECT watermark::text FROM \"" + schema + "\".sync_state WHERE dataset = '" +
                     std::string(model::spec(ds).name) + "'), '')");
}

std::string row_versions(const std::string& schema, model::Dataset ds) {
  return query_value("SELECT coalesce(sum(xmin::text::bigint), 0) FROM " + table(schema, ds));
}

std::string as_logged(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace mdesync::testing::bad_input
