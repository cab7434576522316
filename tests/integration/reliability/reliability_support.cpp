#include "reliability_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <pqxx/pqxx>

#include "support/process.hpp"

namespace mdesync::testing {
namespace {

void replace_in_file(const std::filesystem::path& path, const std::string& from, const std::string& to) {
  std::string text = read_file(path);
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("'" + from + "' not in " + path.string());
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;  // keeps the file's mode
}

RunResult shell(const std::string& script) {
  const std::string root = MDESYNC_SOURCE_DIR;
  return run({"/bin/bash", "-c", "set -e; root=" + root + "; . " + root + "/scripts/lib/common.sh; " + script});
}

}  // namespace

std::vector<std::string> without_quotas(std::vector<std::string> more) {
  std::vector<std::string> flags = {"--json-per-minute",   "0", "--json-per-hour",   "0",
                                    "--export-per-minute", "0", "--export-per-hour", "0"};
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

ConfigOptions reliability_config(const TempSchema& schema, const std::string& full_via) {
  ConfigOptions o{.schema = schema.name()};
  o.full_via = full_via;
  o.extra = "limits:\n  json_per_minute: 100000\n  json_per_hour: 1000000\n"
            "  export_per_minute: 100000\n  export_per_hour: 1000000\n";
  return o;
}

void set_http_timeout(const std::filesystem::path& config, const std::string& timeout) {
  replace_in_file(config, "  timeout: 10s\n", "  timeout: " + timeout + "\n");
}

std::string in_schema(const TempSchema& schema, const std::string& table) {
  return "\"" + schema.name() + "\"." + table;
}

std::string dataset_name(model::Dataset ds) { return std::string(model::spec(ds).name); }

std::string watermark(const TempSchema& schema, model::Dataset ds, const std::string& tenant) {
  try {
    return query_value("SELECT watermark FROM " + in_schema(schema, "sync_state") + " WHERE tenant = '" + tenant +
                       "' AND dataset = '" + dataset_name(ds) + "' UNION ALL SELECT NULL LIMIT 1");
  } catch (const std::exception&) {
    return {};  // the schema is not there yet
  }
}

std::vector<RunRow> runs(const TempSchema& schema, model::Dataset ds) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  std::vector<RunRow> out;
  for (const auto& r : tx.exec_params("SELECT id, mode, status, coalesce(error, '') FROM " +
                                          in_schema(schema, "sync_runs") + " WHERE dataset = $1 ORDER BY id",
                                      dataset_name(ds)))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>()});
  return out;
}

TruthDiff diff(const TempSchema& schema, model::Dataset ds, const std::string& truth_json) {
  return compare_with_truth(schema.name(), "contoso", ds, truth_json);
}

std::string union_of(const std::string& a, const std::string& b) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  return tx.exec_params1("SELECT ($1::jsonb || $2::jsonb)::text", a, b)[0].as<std::string>();
}

long env_long(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v == nullptr || *v == '\0' ? fallback : std::stol(v);
}

PrivateCluster::PrivateCluster() {
  const auto r = shell("pg_start >/dev/null && echo \"$PG_DIR $PG_PORT\"");
  if (r.exit_code != 0) throw std::runtime_error("private cluster did not start: " + r.output);
  // The last line: pg_start retries another port when it loses a race for one,
  // and pg_ctl's complaint about the lost one comes first (stderr is captured too).
  std::string last, line;
  std::istringstream lines(r.output);
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  std::istringstream in(last);
  in >> dir_ >> port_;
}

PrivateCluster::~PrivateCluster() { shell("PG_DIR=" + dir_ + " pg_stop"); }

std::string PrivateCluster::url() const { return "postgresql://postgres@127.0.0.1:" + port_ + "/postgres"; }

void PrivateCluster::stop() {
  EXPECT_EQ(shell("cd / && as_pg_user $PG_BIN/pg_ctl -D " + dir_ + "/data -m fast -w stop").exit_code, 0);
}

void PrivateCluster::start() {
  const std::string options = "-p " + port_ + " -k " + dir_ + "/sock -c listen_addresses=127.0.0.1";
  const std::string data = dir_ + "/data", server_log = dir_ + "/server.log";
  const std::string command = "$PG_BIN/pg_ctl -D " + data + " -l " + server_log + " -w -t 60 start";
  EXPECT_EQ(shell("cd / && as_pg_user " + command + " -o \"" + options + "\" >/dev/null").exit_code, 0);
}

}  // namespace mdesync::testing
