// mdesync against the simulator and the real PostgreSQL, through the binary a
// user runs: full and incremental JSON syncs, faults, quotas, tokens, crashes.
#include <gtest/gtest.h>

#include <signal.h>

#include <regex>
#include <thread>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

// A number from a JSON text: "key": 12
long long json_number(const std::string& json, const std::string& key) {
  const std::regex re("\"" + key + "\"\\s*:\\s*(\\d+)");
  std::smatch m;
  if (!std::regex_search(json, m, re)) {
    ADD_FAILURE() << "no " << key << " in " << json;
    return -1;
  }
  return std::stoll(m[1]);
}

TEST(JsonSync, FullThenIncrementalThenFullEqualsTheTruthFieldByField) {
  TempSchema schema("sync");
  FakeApi api({}, 60);
  TempDir dir;
  // Pages big enough that three syncs of both data sets stay within 30 calls a minute.
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 400});

  auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("contoso cpe full succeeded"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("contoso noncpe full succeeded"), std::string::npos) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);

  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=15&uninstalls=10&upgrades=12&seed=3");
  r = run_mdesync(config, {"sync", "--mode", "incremental"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("contoso cpe incremental succeeded"), std::string::npos) << r.output;
  // An incremental pull only upserts: every truth row is present and equal, and the
  // only extra rows are the ones uninstalled or upgraded away (removals wait for a full sync).
  for (const auto ds : {Dataset::cpe, Dataset::noncpe}) {
    const auto d = compare_with_truth(schema.name(), "contoso", ds, api.truth(std::string(model::spec(ds).name)));
    EXPECT_EQ(d.missing_count, 0) << (d.missing.empty() ? "" : d.missing[0]);
  }
  r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  EXPECT_EQ(query_value("SELECT count(*) > 0 FROM \"" + schema.name() +
                        "\".software_inventory WHERE removed_at IS NOT NULL"),
            "t");
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs WHERE status <> 'succeeded'"), "0");
}

TEST(JsonSync, UnchangedDataIsNotRewrittenByASecondFullSync) {
  TempSchema schema("sync");
  FakeApi api({}, 30);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name()});
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  const auto xmins = query_value("SELECT sum(xmin::text::bigint) FROM \"" + schema.name() + "\".software_inventory");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("upserted=0 removed=0"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT sum(xmin::text::bigint) FROM \"" + schema.name() + "\".software_inventory"), xmins);
}

TEST(JsonSync, ConvergesUnderInjectedFaults) {
  TempSchema schema("faults");
  FakeApi api({"--fault-seed", "11", "--fault-5xx-rate", "0.15", "--fault-reset-rate", "0.1", "--fault-truncate-rate",
               "0.1", "--fault-malformed-rate", "0.1", "--fault-slow-rate", "0.05", "--fault-slow-ms", "50"},
              40);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 50});
  auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("faults_injected"), std::string::npos) << stats;
  EXPECT_NE(r.output.find("api retry"), std::string::npos) << "no fault reached the client:\n" << r.output;
}

TEST(JsonSync, HonoursRetryAfterOn429s) {
  TempSchema schema("throttle");
  FakeApi api({"--fault-seed", "5", "--fault-429-rate", "0.3", "--fault-retry-after", "1"}, 20);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 100});
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_GT(json_number(stats, "throttled"), 0) << stats;
  EXPECT_EQ(json_number(stats, "early_retries"), 0) << stats;
  EXPECT_EQ(json_number(stats, "violations"), 0) << stats;
}

TEST(JsonSync, NeverExceedsTheQuotaWindow) {
  TempSchema schema("quota");
  // 4 calls a minute on both sides; 7 calls (token excluded) need one wait of a minute.
  FakeApi api({"--json-per-minute", "4"}, 12);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 50,
                                              .extra = "limits:\n  json_per_minute: 4\n"});
  const auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_EQ(json_number(stats, "violations"), 0) << stats;
  EXPECT_EQ(json_number(stats, "throttled"), 0) << stats;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
}

TEST(JsonSync, RefreshesATokenThatExpiresMidPaging) {
  TempSchema schema("token");
  FakeApi api({"--token-expire-after-pages", "2"}, 30);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 50});
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_GE(json_number(api.admin_get("/_admin/stats"), "tokens_issued"), 2);
  EXPECT_NE(r.output.find("token refresh"), std::string::npos) << r.output;
}

TEST(JsonSync, NeverSendsAnythingToAForeignNextLinkHost) {
  TempSchema schema("foreign");
  FakeApi foreign({}, 5);
  FakeApi api({"--next-link-base", foreign.base_url()}, 20);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 50});
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("refusing to follow a link to " + foreign.base_url()), std::string::npos) << r.output;
  const auto stats = foreign.admin_get("/_admin/stats");
  EXPECT_EQ(stats.find("/api/machines"), std::string::npos) << "the foreign host was called: " << stats;
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_state"), "0");
  EXPECT_EQ(query_value("SELECT status FROM \"" + schema.name() + "\".sync_runs"), "failed");
}

TEST(JsonSync, AKillDuringASyncLeavesTheWatermarkAndTheNextSyncConverges) {
  TempSchema schema("kill");
  FakeApi api({"--fault-slow-rate", "1", "--fault-slow-ms", "150"}, 40);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name(), .page_size = 40});
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "noncpe"}).exit_code, 0);
  const auto watermark = query_value("SELECT watermark FROM \"" + schema.name() + "\".sync_state");
  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=10&uninstalls=5&upgrades=5&seed=9");
  {
    Process p({mdesync_binary(), "sync", "--dataset", "noncpe", "--mode", "full", "--config", config.string()},
              dir.path() / "killed.log");
    // Kill mid-run: once the run is recorded, while its slow pages are arriving.
    bool running = false;
    for (int i = 0; i < 1000 && p.running() && !running; ++i) {
      running = query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs WHERE status = 'running'") != "0";
      if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(running);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    p.kill(SIGKILL);
    EXPECT_EQ(p.wait(), 128 + SIGKILL);
  }
  EXPECT_EQ(query_value("SELECT watermark FROM \"" + schema.name() + "\".sync_state"), watermark);
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".sync_runs WHERE status = 'abandoned'"), "1");
}

}  // namespace
}  // namespace mdesync::testing
