// The Grafana dashboard in docker/grafana: every panel's SQL, with Grafana's
// macros and variables filled in the way Grafana does, runs as mdesync_reader
// against data synced from the simulator (see simulator_data.hpp) and returns rows
// of the column types Grafana reads (a "time" column first for time series).
// PostgreSQL itself reads the dashboard's JSON.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "simulator_data.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

// What Grafana's PostgreSQL data source does to a query before it sends it, for
// the macros and variables the dashboard uses: anything else starting with $ fails.
class Grafana {
 public:
  Grafana(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void set(const std::string& variable, const std::string& quoted_values) { values_[variable] = quoted_values; }

  std::string expand(std::string sql) const {
    sql = std::regex_replace(sql, std::regex(R"(\$__timeFilter\(([^)]+)\))"),
                             "$1 BETWEEN '" + from_ + "' AND '" + to_ + "'");
    sql = std::regex_replace(sql, std::regex(R"(\$__timeFrom\(\))"), "'" + from_ + "'");
    sql = std::regex_replace(sql, std::regex(R"(\$__timeTo\(\))"), "'" + to_ + "'");
    for (const auto& [name, value] : values_)
      sql = std::regex_replace(sql, std::regex("\\$\\{" + name + ":sqlstring\\}"), value);
    return sql;
  }

 private:
  std::string from_, to_;
  std::map<std::string, std::string> values_;
};

// Column types Grafana's PostgreSQL data source turns into numbers, strings or times.
const std::set<pqxx::oid> readable_types = {16, 20, 21, 23, 25, 700, 701, 1043, 1082, 1114, 1184, 1700};
constexpr pqxx::oid timestamptz = 1184;

TEST(GrafanaDashboard, EveryPanelAnswersAsTheReaderWithTheColumnsGrafanaExpects) {
  SimulatorData data("dashboard");
  ASSERT_NO_FATAL_FAILURE(data.sync());
  const std::string dashboard = read_text(MDESYNC_DASHBOARD);
  ASSERT_FALSE(dashboard.empty()) << MDESYNC_DASHBOARD;

  pqxx::connection c(database_url());
  pqxx::work tx(c);
  tx.exec("SET LOCAL ROLE mdesync_reader");
  const auto range = tx.exec1("SELECT to_char((now() - interval '7 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
                              " to_char((now() + interval '1 minute') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");
  Grafana grafana(range[0].as<std::string>(), range[1].as<std::string>());

  // The variables, in order (each may use the ones before): the first value each offers.
  const auto variables = tx.exec_params(
      "SELECT v->>'name', v->>'query' FROM jsonb_array_elements($1::jsonb->'templating'->'list') WITH ORDINALITY AS x(v, n)"
      " ORDER BY n",
      dashboard);
  ASSERT_EQ(variables.size(), 2u);
  for (const auto& v : variables) {
    SCOPED_TRACE(v[0].as<std::string>());
    pqxx::result values;
    ASSERT_NO_THROW(values = tx.exec(data.in_schema(grafana.expand(v[1].as<std::string>()))));
    ASSERT_GT(values.size(), 0u);
    grafana.set(v[0].as<std::string>(), tx.quote(values[0][0].as<std::string>()));
  }

  const auto panels = tx.exec_params(
      "SELECT p->>'title', p->>'type', t->>'format', t->>'rawSql'"
      " FROM jsonb_array_elements($1::jsonb->'panels') AS p, jsonb_array_elements(p->'targets') AS t"
      " ORDER BY (p->>'id')::int",
      dashboard);
  ASSERT_GE(panels.size(), 6u);
  for (const auto& p : panels) {
    const std::string title = p[0].as<std::string>(), format = p[2].as<std::string>();
    SCOPED_TRACE(title);
    const std::string sql = data.in_schema(grafana.expand(p[3].as<std::string>()));
    ASSERT_EQ(sql.find('$'), std::string::npos) << "a macro or variable this test does not know: " << sql;
    tx.exec("SAVEPOINT panel");
    pqxx::result rows;
    ASSERT_NO_THROW(rows = tx.exec(sql)) << sql;
    tx.exec("RELEASE SAVEPOINT panel");
    EXPECT_GT(rows.size(), 0u) << sql;
    for (pqxx::row::size_type i = 0; i < rows.columns(); ++i)
      EXPECT_TRUE(readable_types.count(rows.column_type(i))) << rows.column_name(i) << " has type " << rows.column_type(i);
    if (format == "time_series") {
      ASSERT_GT(rows.columns(), 1u);
      EXPECT_STREQ(rows.column_name(0), "time");
      EXPECT_EQ(rows.column_type(0), timestamptz);
      for (pqxx::row::size_type i = 1; i < rows.columns(); ++i) {
        if (std::string(rows.column_name(i)) == "metric") continue;  // the series' name in long frames
        EXPECT_NE(rows.column_type(i), timestamptz) << rows.column_name(i);
        EXPECT_NE(rows.column_type(i), 25u) << rows.column_name(i) << ": a value column must be a number";
      }
    } else {
      EXPECT_EQ(format, "table");
    }
  }
}

}  // namespace
}  // namespace mdesync::testing
