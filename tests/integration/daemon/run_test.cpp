// `mdesync run` as a service: it schedules both data sets, reloads on SIGHUP,
// survives a PostgreSQL restart, exits cleanly on SIGTERM, and two instances
// never run the same tenant and data set at once.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>
#include <thread>

#include "http/client.hpp"
#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;

ConfigOptions fast_schedule(const TempSchema& schema) {
  ConfigOptions o{.schema = schema.name()};
  o.page_size = 500;
  o.extra_sync = "  incremental_interval: 2s\n  full_interval: 1h\n";
  o.extra = "limits:\n  json_per_minute: 1000\n  json_per_hour: 100000\n";
  return o;
}

// Polls `sql` (one value) until it equals `want` or the deadline passes.
bool wait_for_value(const std::string& sql, const std::string& want, std::chrono::seconds limit = 60s,
                    const std::string& url = "") {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (url.empty() ? query_value(sql) == want : false) return true;
      if (!url.empty()) {
        pqxx::connection c(url);
        pqxx::nontransaction tx(c);
        const auto r = tx.exec1(sql);
        if (!r[0].is_null() && r[0].as<std::string>() == want) return true;
      }
    } catch (const std::exception&) {
      // schema not there yet, or the database restarting
    }
    std::this_thread::sleep_for(200ms);
  }
  return false;
}

std::string incremental_count(const TempSchema& s, const std::string& tenant = "contoso") {
  return "SELECT (count(*) FILTER (WHERE mode = 'incremental' AND status = 'succeeded') >= 2 AND "
         "count(DISTINCT dataset) FILTER (WHERE mode = 'full' AND status = 'succeeded') = 2)::text FROM \"" +
         s.name() + "\".sync_runs WHERE tenant = '" + tenant + "'";
}

http::Response get(const std::string& url) {
  http::Client client;
  http::Request request;
  request.url = url;
  return client.send(request);
}

TEST(Run, SyncsOnScheduleServesMetricsAndHealthAndStopsCleanlyOnSigterm) {
  TempSchema schema("run");
  FakeApi api({}, 20);
  TempDir dir;
  auto options = fast_schedule(schema);
  const int port = free_loopback_port();
  options.extra += "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n";
  // A second tenant whose secret is wrong: it fails on every run and never holds up contoso.
  options.extra_tenant = "  - name: broken\n    tenant_id: \"" + fake_tenant_id + "\"\n    client_id: \"" +
                         fake_client_id + "\"\n    client_secret_file: " + dir.write("wrong", "nope\n").string() +
                         "\n    api_url: " + api.base_url() + "\n    token_url: " + api.base_url() + "/" +
                         fake_tenant_id + "/oauth2/v2.0/token\n    datasets: [cpe]\n";
  const auto config = write_config(dir, api, options);
  Process daemon({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "run.log");
  ASSERT_TRUE(wait_for_value(incremental_count(schema), "true")) << read_file(dir.path() / "run.log");
  expect_table_equals_truth(api, schema.name(), model::Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), model::Dataset::noncpe);

  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const auto metrics = get(base + "/metrics");
  EXPECT_EQ(metrics.status, 200);
  for (const char* series : {"mdesync_rows_received_total{dataset=\"cpe\",tenant=\"contoso\"}",
                             "mdesync_runs_total{dataset=\"noncpe\",mode=\"full\",status=\"succeeded\",tenant=\"contoso\"} 1",
                             "mdesync_last_success_timestamp_seconds{dataset=\"cpe\",tenant=\"contoso\"}",
                             "mdesync_api_requests_total{", "mdesync_quota_remaining{", "mdesync_up 1"})
    EXPECT_NE(metrics.body.find(series), std::string::npos) << series << "\n" << metrics.body;
  EXPECT_EQ(metrics.body.find(fake_secret), std::string::npos);
  const auto health = get(base + "/healthz");
  EXPECT_EQ(health.status, 503) << health.body;
  EXPECT_NE(health.body.find("broken/cpe: no successful sync yet"), std::string::npos) << health.body;
  EXPECT_EQ(health.body.find("contoso"), std::string::npos) << health.body;
  daemon.kill(SIGTERM);
  EXPECT_EQ(daemon.wait(60s), 0) << read_file(dir.path() / "run.log");
  const auto log = read_file(dir.path() / "run.log");
  EXPECT_NE(log.find("event=\"daemon stopped\""), std::string::npos) << log;
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs WHERE status = 'running'"), "0");
}

TEST(Run, ReloadsOnSighupAndKeepsRunningOnABadConfig) {
  TempSchema schema("reload");
  FakeApi api({}, 10);
  TempDir dir;
  auto options = fast_schedule(schema);
  const auto config = write_config(dir, api, options);
  Process daemon({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "run.log");
  ASSERT_TRUE(wait_for_value(incremental_count(schema), "true")) << read_file(dir.path() / "run.log");

  // A second tenant appears in the file: SIGHUP picks it up without a restart.
  options.extra_tenant = "  - name: fabrikam\n    tenant_id: \"" + fake_tenant_id + "\"\n    client_id: \"" +
                         fake_client_id + "\"\n    client_secret_file: " + api.secret_file().string() +
                         "\n    api_url: " + api.base_url() + "\n    token_url: " + api.base_url() + "/" +
                         fake_tenant_id + "/oauth2/v2.0/token\n";
  write_config(dir, api, options);
  daemon.kill(SIGHUP);
  ASSERT_TRUE(wait_for_value(incremental_count(schema, "fabrikam"), "true")) << read_file(dir.path() / "run.log");

  // A broken file is logged and ignored: the daemon goes on with the old config.
  dir.write("mdesync.yaml", "database: [this is not valid\n");
  daemon.kill(SIGHUP);
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(daemon.running()) << read_file(dir.path() / "run.log");
  const auto runs = query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs");
  ASSERT_TRUE(wait_for_value("SELECT (count(*) > " + runs + ")::text FROM \"" + schema.name() + "\".sync_runs", "true"));
  EXPECT_NE(read_file(dir.path() / "run.log").find("reload rejected"), std::string::npos);
  daemon.kill(SIGTERM);
  EXPECT_EQ(daemon.wait(60s), 0);
}

// A PostgreSQL cluster of the test's own, so it can be stopped and started
// without disturbing the tests that share the suite's database.
class PrivateCluster {
 public:
  PrivateCluster() {
    // The output interleaves stderr (pg_start reports a port it had to skip):
    // the answer is the line after the marker.
    const auto r = shell("pg_start >/dev/null && echo \"private-cluster: $PG_DIR $PG_PORT\"");
    const auto at = r.output.find("private-cluster: ");
    if (r.exit_code != 0 || at == std::string::npos)
      throw std::runtime_error("private cluster did not start: " + r.output);
    std::istringstream in(r.output.substr(at + 17));
    in >> dir_ >> port_;
  }
  ~PrivateCluster() { shell("PG_DIR=" + dir_ + " pg_stop"); }
  std::string url() const { return "postgresql://postgres@127.0.0.1:" + port_ + "/postgres"; }
  void stop() { EXPECT_EQ(shell("cd / && as_pg_user $PG_BIN/pg_ctl -D " + dir_ + "/data -m fast -w stop").exit_code, 0); }
  void start() {
    EXPECT_EQ(shell("cd / && as_pg_user $PG_BIN/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w start -o \"-p " +
                    port_ + " -k " + dir_ + "/sock -c listen_addresses=127.0.0.1\" >/dev/null")
                  .exit_code,
              0);
  }

 private:
  static RunResult shell(const std::string& script) {
    const std::string root = MDESYNC_SOURCE_DIR;
    return run({"/bin/bash", "-c", "set -e; root=" + root + "; . " + root + "/scripts/lib/common.sh; " + script});
  }
  std::string dir_, port_;
};

// The documented JSON quota (30 a minute) and more calls than fit in a minute:
// ten reloads while the first full syncs page through the data must neither
// reset the quota windows nor cost an unchanged tenant a new token. The second
// tenant's secret is rotated to another valid one: it gets a new token.
TEST(Run, TenReloadsInAMinuteKeepTheQuotaAndTheTokenOfAnUnchangedTenant) {
  TempSchema schema("reload");
  const std::string second_id = "99999999-8888-7777-6666-555555555555";
  TempDir dir;
  const auto rotated = dir.write("rotated-secret", "rotated-s3cr3t\n");
  FakeApi api({"--tenant-id", second_id, "--client-secret-file", rotated.string()}, 12);
  ConfigOptions o{.schema = schema.name()};
  o.page_size = 8;  // about 40 pages a tenant: more than a minute's quota
  o.extra_sync = "  incremental_interval: 10s\n  full_interval: 1h\n";
  const auto other_secret = dir.write("other-secret", read_file(api.secret_file()));
  const auto second_tenant = [&](const std::string& comment) {
    return "  - name: other\n    tenant_id: \"" + second_id + "\"\n    client_id: \"" + fake_client_id +
           "\"\n    client_secret_file: " + other_secret.string() + "\n    api_url: " + api.base_url() +
           "\n    token_url: " + api.base_url() + "/" + second_id + "/oauth2/v2.0/token\n    # " + comment + "\n";
  };
  o.extra_tenant = second_tenant("reload 0");
  const auto config = write_config(dir, api, o);
  Process daemon({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "run.log");
  for (int i = 1; i <= 10; ++i) {
    std::this_thread::sleep_for(5s);
    // An edit that changes nothing about the tenants' credentials...
    o.extra_tenant = second_tenant("reload " + std::to_string(i));
    if (i == 6) {
      // ...but for this one: the second tenant's secret is rotated to another valid one.
      dir.write("other-secret", read_file(rotated));
        }
    write_config(dir, api, o);
    daemon.kill(SIGHUP);
  }
  const std::string reloaded_at = query_value("SELECT now()::text");
  const bool synced = wait_for_value("SELECT count(*) FILTER (WHERE last_full_at IS NOT NULL)::text FROM \"" +
                                         schema.name() + "\".sync_state",
                                     "4", 120s) &&
                      // and both tenants ran a pull on the config of the last reload
                      wait_for_value("SELECT count(DISTINCT tenant)::text FROM \"" + schema.name() +
                                         "\".sync_runs WHERE status = 'succeeded' AND started_at > '" + reloaded_at + "'",
                                     "2", 120s);
  const auto stats = api.admin_get("/_admin/stats");
  daemon.kill(SIGTERM);
  EXPECT_EQ(daemon.wait(30s), 0);
  const auto log = read_file(dir.path() / "run.log");
  ASSERT_TRUE(synced) << log;
  EXPECT_NE(stats.find("\"violations\":0"), std::string::npos) << stats;
  // One token for contoso over all ten reloads; two for the rotated tenant.
  const auto tokens_of = [&](const std::string& id) {
    const auto at = stats.find("\"" + id + "\":{");
    const auto issued = stats.find("\"tokens_issued\":", at);
    return at == std::string::npos ? -1 : std::stoi(stats.substr(issued + 16));
  };
  EXPECT_EQ(tokens_of(fake_tenant_id), 1) << stats;
  EXPECT_EQ(tokens_of(second_id), 2) << stats;
  EXPECT_NE(log.find("event=\"tenant credentials changed\" tenant=other"), std::string::npos) << log;
}

TEST(Run, SurvivesAPostgresRestartAndRecoversByItself) {
  PrivateCluster cluster;
  TempSchema schema("restart");  // dropped in the suite database: harmless, this test uses its own
  FakeApi api({}, 10);
  TempDir dir;
  auto options = fast_schedule(schema);
  options.extra += "";
  auto config_path = write_config(dir, api, options);
  // Point the config at the private cluster.
  auto text = read_file(config_path);
  text.replace(text.find(database_url()), database_url().size(), cluster.url());
  config_path = dir.write("mdesync.yaml", text);
  Process daemon({mdesync_binary(), "run", "--config", config_path.string()}, dir.path() / "run.log");
  const std::string succeeded = "SELECT count(*) FROM \"" + schema.name() + "\".sync_runs WHERE status = 'succeeded'";
  ASSERT_TRUE(wait_for_value("SELECT (count(*) >= 3)::text FROM \"" + schema.name() +
                                 "\".sync_runs WHERE status = 'succeeded'",
                             "true", 60s, cluster.url()))
      << read_file(dir.path() / "run.log");
  cluster.stop();
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(daemon.running()) << read_file(dir.path() / "run.log");
  cluster.start();
  // Runs succeed again after the restart, without touching the daemon.
  pqxx::connection c(cluster.url());
  pqxx::nontransaction tx(c);
  const auto after_restart = tx.exec1("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs")[0].as<long>();
  EXPECT_TRUE(wait_for_value("SELECT (count(*) > 0)::text FROM \"" + schema.name() +
                                 "\".sync_runs WHERE status = 'succeeded' AND id > " + std::to_string(after_restart),
                             "true", 90s, cluster.url()))
      << read_file(dir.path() / "run.log");
  const auto log = read_file(dir.path() / "run.log");
  EXPECT_TRUE(log.find("pull failed to start") != std::string::npos || log.find("status=failed") != std::string::npos)
      << "the outage was not noticed:\n" << log;
  daemon.kill(SIGTERM);
  EXPECT_EQ(daemon.wait(60s), 0) << log;
}

TEST(Run, TwoInstancesNeverSyncTheSameTenantAndDataSetAtOnce) {
  TempSchema schema("ha");
  FakeApi api({"--fault-slow-rate", "1", "--fault-slow-ms", "100"}, 10);
  TempDir dir;
  auto options = fast_schedule(schema);
  options.page_size = 50;
  const auto config = write_config(dir, api, options);
  Process first({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "a.log");
  Process second({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "b.log");
  const std::string runs = "\"" + schema.name() + "\".sync_runs";
  ASSERT_TRUE(wait_for_value("SELECT (count(*) FILTER (WHERE status = 'succeeded') >= 6)::text FROM " + runs, "true"))
      << read_file(dir.path() / "a.log");
  // The active instance dies; the standby takes over.
  first.kill(SIGKILL);
  first.wait();
  const auto before = query_value("SELECT count(*) FROM " + runs + " WHERE status = 'succeeded'");
  EXPECT_TRUE(wait_for_value("SELECT (count(*) >= " + before + " + 2)::text FROM " + runs +
                                 " WHERE status = 'succeeded'",
                             "true"))
      << read_file(dir.path() / "b.log");
  second.kill(SIGTERM);
  EXPECT_EQ(second.wait(60s), 0);
  // No two runs of one tenant and data set overlap in time (the killed run, if
  // any, was marked abandoned when the next one started).
  EXPECT_EQ(query_value("SELECT count(*) FROM " + runs + " a JOIN " + runs +
                        " b ON a.tenant = b.tenant AND a.dataset = b.dataset AND a.id < b.id"
                        " WHERE a.status <> 'abandoned' AND b.started_at < coalesce(a.finished_at, 'infinity')"),
            "0");
}

}  // namespace
}  // namespace mdesync::testing

namespace mdesync::testing {
namespace {

TEST(Status, ShowsLastRunWatermarkAndNextDuePerTenantAndDataSet) {
  TempSchema schema("status");
  FakeApi api({}, 5);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name()});
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  auto r = run_mdesync(config, {"status", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"\"tenant\":\"contoso\",\"dataset\":\"cpe\",\"last_mode\":\"full\",\"last_status\":\"succeeded\"",
                           "\"tenant\":\"contoso\",\"dataset\":\"noncpe\",\"last_mode\":null", "\"next_mode\":\"incremental\"",
                           "\"next_mode\":\"full\"", "\"watermark\":\"20", "\"next_due_at\":\"20"})
    EXPECT_NE(r.output.find(part), std::string::npos) << part << "\n" << r.output;
  r = run_mdesync(config, {"status"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("never run"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("succeeded"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
