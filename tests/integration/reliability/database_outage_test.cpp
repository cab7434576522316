// PostgreSQL stopped or restarted in the middle of a full sync, on a cluster of the
// test's own: the run ends (no hang, no crash) with a message that names the
// database problem, the table still holds the previous snapshot, and the next run
// converges and marks the interrupted run.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include "reliability_support.hpp"
#include "store/identifiers.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;
using model::Dataset;

// Points database_url() (and so write_config, query_value, the truth comparison) at
// another cluster for the rest of the test; ctest runs every test in its own process.
class ScopedDatabase {
 public:
  explicit ScopedDatabase(const std::string& url) : saved_(database_url()) { ::setenv(var, url.c_str(), 1); }
  ~ScopedDatabase() { ::setenv(var, saved_.c_str(), 1); }

 private:
  static constexpr const char* var = "MDESYNC_TEST_DATABASE_URL";
  std::string saved_;
};

long staged_rows(const TempSchema& schema) {
  try {
    return std::stol(query_value("SELECT count(*) FROM " + in_schema(schema, store::stage_table("cpe", "contoso"))));
  } catch (const std::exception&) {
    return 0;  // not created yet, or the cluster is restarting
  }
}

struct Outage {
  PrivateCluster cluster;
  ScopedDatabase database{cluster.url()};
  TempSchema schema{"outage"};
  FakeApi api{without_quotas(), 20};
  TempDir dir;
  std::filesystem::path config;
  std::string old_truth, old_watermark;

  Outage() {
    auto options = reliability_config(schema);
    options.page_size = 40;
    config = write_config(dir, api, options);
    const auto first = run_mdesync(config, {"sync", "--dataset", "cpe"});
    EXPECT_EQ(first.exit_code, 0) << first.output;
    old_truth = api.truth("cpe");
    old_watermark = watermark(schema, Dataset::cpe);
    api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=10&uninstalls=5&upgrades=5&seed=12");
    // Slow pages: the sync is still fetching when the database goes away.
    api.admin_post("/_admin/faults?fault-slow-rate=1&fault-slow-ms=150");
  }

  // Starts a full sync and returns once it has staged rows of the new snapshot.
  std::unique_ptr<Process> start_sync() {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{mdesync_binary(), "sync", "--dataset", "cpe", "--mode", "full", "--config",
                                 config.string()},
        dir.path() / "interrupted.log");
    for (int i = 0; i < 3000 && p->running() && staged_rows(schema) == 0; ++i) std::this_thread::sleep_for(10ms);
    EXPECT_GT(staged_rows(schema), 0) << read_file(dir.path() / "interrupted.log");
    return p;
  }

  void expect_next_run_converges() {
    const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    expect_table_equals_truth(api, schema.name(), Dataset::cpe);
    for (const auto& run : runs(schema, Dataset::cpe)) EXPECT_NE(run.status, "running") << "run " << run.id;
    EXPECT_EQ(runs(schema, Dataset::cpe).back().status, "succeeded");
  }
};

// The error of the run that lost its database, from its "pull finished" line.
std::string run_error(const std::string& log) {
  const auto line = log.find("event=\"pull finished\"");
  const auto at = log.find(" error=", line == std::string::npos ? 0 : line);
  return at == std::string::npos ? std::string() : log.substr(at + 7, log.find('\n', at) - at - 7);
}

TEST(DatabaseOutage, AStopMidSyncFailsTheRunCleanlyAndTheNextRunConverges) {
  Outage t;
  auto p = t.start_sync();
  t.cluster.stop();
  const int status = p->wait(180s);
  const auto log = read_file(t.dir.path() / "interrupted.log");
  EXPECT_TRUE(status == 1 || status == 4) << "exit status " << status << " (-1: still running)\n" << log;
  EXPECT_NE(log.find("status=failed"), std::string::npos) << log;
  EXPECT_FALSE(run_error(log).empty()) << log;
  t.cluster.start();
  EXPECT_TRUE(diff(t.schema, Dataset::cpe, t.old_truth).equal()) << "the interrupted snapshot changed the table";
  EXPECT_EQ(watermark(t.schema, Dataset::cpe), t.old_watermark);
  const auto interrupted = runs(t.schema, Dataset::cpe).back();
  t.expect_next_run_converges();
  // It could not be recorded as failed while the database was down; the next run marks it abandoned.
  for (const auto& r : runs(t.schema, Dataset::cpe)) {
    if (r.id == interrupted.id) {
      EXPECT_EQ(r.status, interrupted.status == "running" ? "abandoned" : "failed") << "run " << r.id;
    }
  }
}

// Product bug (reported, lib/schedule is not this test's to change): the run's error is
// libpqxx's bare "Could not obtain client encoding: not connected.", which does not say
// that PostgreSQL went away. Enable once the pull names the database in the message.
TEST(DatabaseOutage, AStopMidSyncFailsWithAMessageThatNamesTheDatabase) {
  Outage t;
  auto p = t.start_sync();
  t.cluster.stop();
  EXPECT_NE(p->wait(180s), -1);
  const auto error = run_error(read_file(t.dir.path() / "interrupted.log"));
  EXPECT_NE(error.find("PostgreSQL"), std::string::npos) << error;
  t.cluster.start();
}

TEST(DatabaseOutage, ARestartMidSyncEndsInSuccessOrACleanFailureAndTheNextRunConverges) {
  Outage t;
  auto p = t.start_sync();
  t.cluster.stop();
  t.cluster.start();
  const int status = p->wait(180s);
  const auto log = read_file(t.dir.path() / "interrupted.log");
  EXPECT_TRUE(status == 0 || status == 1 || status == 4) << "exit status " << status << "\n" << log;
  const auto d_old = diff(t.schema, Dataset::cpe, t.old_truth);
  const auto d_new = diff(t.schema, Dataset::cpe, t.api.truth("cpe"));
  std::cout << "[outage] restart mid-sync: " << (status == 0 ? "the run recovered" : "the run failed cleanly")
            << (status == 0 ? "" : ": " + run_error(log)) << std::endl;
  if (status == 0) {
    EXPECT_TRUE(d_new.equal()) << log;
  } else {
    EXPECT_NE(log.find("status=failed"), std::string::npos) << log;
    EXPECT_TRUE(d_old.equal()) << "a failed snapshot changed the table\n" << log;
    EXPECT_EQ(watermark(t.schema, Dataset::cpe), t.old_watermark);
  }
  t.expect_next_run_converges();
}

}  // namespace
}  // namespace mdesync::testing
