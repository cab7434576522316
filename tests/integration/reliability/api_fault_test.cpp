// Every kind of API fault, one case each, through `mdesync sync` end to end: after a
// good first sync and a change in the simulator, the fault is switched on and a sync
// runs. It either ends in success after retries (the table equals the new truth) or
// fails with a clear message that sync_runs records, having applied nothing: the table
// still equals the old truth and the watermark did not move; with the fault gone the
// next sync converges.
//
// Faults that tests/integration/sync already shows recovering from at random rates
// (mixed 5xx/reset/truncate/malformed/slow, 429s, export resets and truncation, SAS
// expiry mid-download, token expiry) appear here as bursts and as outages that never end.
#include <gtest/gtest.h>

#include <regex>

#include "reliability_support.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

struct FaultCase {
  const char* name;
  std::string faults;    // the /_admin/faults query that switches the fault on
  std::string kind;      // its name under faults_injected in /_admin/stats
  bool survives;         // success after retries, or a failed run
  std::string evidence;  // in the output: the retry for survivors, the run's error for failures
  std::string full_via = "json";
  bool incremental = false;
  int page_size = 50;
  std::string timeout = {};  // http.timeout
};

std::ostream& operator<<(std::ostream& os, const FaultCase& c) { return os << c.name; }

// Every rate back to zero and the window reopened.
const std::string no_faults =
    "fault-5xx-rate=0&fault-429-rate=0&fault-reset-rate=0&fault-truncate-rate=0&fault-slow-rate=0&"
    "fault-malformed-rate=0&fault-html-rate=0&fault-export-truncate-rate=0&fault-export-reset-rate=0&"
    "fault-sas-expired-rate=0&fault-start-after=0&fault-count=0";

long long injected(const std::string& stats, const std::string& kind) {
  const std::regex re("\"faults_injected\"\\s*:\\s*\\{[^}]*\"" + kind + "\"\\s*:\\s*(\\d+)");
  std::smatch m;
  return std::regex_search(stats, m, re) ? std::stoll(m[1]) : 0;
}

class ApiFault : public ::testing::TestWithParam<FaultCase> {};

TEST_P(ApiFault, EndsInSuccessAfterRetriesOrInAFailedRunThatAppliedNothing) {
  const FaultCase& c = GetParam();
  TempSchema schema("fault");
  FakeApi api(without_quotas({"--export-files", "3", "--fault-seed", "4"}), 20);
  TempDir dir;
  auto options = reliability_config(schema, c.full_via);
  options.page_size = c.page_size;
  const auto config = write_config(dir, api, options);
  if (!c.timeout.empty()) set_http_timeout(config, c.timeout);
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);

  const auto old_truth = api.truth("cpe");
  const auto old_watermark = watermark(schema, Dataset::cpe);
  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id +
                 (c.incremental ? "&installs=30&uninstalls=0&upgrades=0&reassess=30&seed=6"
                                : "&installs=10&uninstalls=6&upgrades=8&reassess=5&seed=6"));
  const auto new_truth = api.truth("cpe");
  const std::string mode = c.incremental ? "incremental" : "full";
  api.admin_post("/_admin/faults?" + c.faults);
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", mode});

  EXPECT_GT(injected(api.admin_get("/_admin/stats"), c.kind), 0) << "the fault was never injected";
  EXPECT_NE(r.output.find(c.evidence), std::string::npos) << "expected \"" << c.evidence << "\" in:\n" << r.output;
  const auto last = runs(schema, Dataset::cpe).back();
  if (c.survives) {
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(last.status, "succeeded") << last.error;
    expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  } else {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(last.status, "failed");
    EXPECT_NE(last.error.find(c.evidence), std::string::npos) << "sync_runs.error: " << last.error;
    EXPECT_EQ(watermark(schema, Dataset::cpe), old_watermark);
    if (c.incremental) {
      // Pages before the fault committed (the case lets page 1 through), each with only its own rows.
      const auto d = diff(schema, Dataset::cpe, union_of(old_truth, new_truth));
      EXPECT_EQ(d.extra_count, 0) << (d.extra.empty() ? "" : d.extra[0]);
      EXPECT_FALSE(diff(schema, Dataset::cpe, old_truth).equal()) << "page 1 never committed";
    } else {
      const auto d = diff(schema, Dataset::cpe, old_truth);
      EXPECT_TRUE(d.equal()) << "a failed snapshot changed the table: " << d.missing_count << " old rows missing, "
                             << d.extra_count << " others, e.g. " << (d.extra.empty() ? "" : d.extra[0]);
    }
    api.admin_post("/_admin/faults?" + no_faults);
    const auto after = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", mode});
    ASSERT_EQ(after.exit_code, 0) << after.output;
    expect_table_equals_truth(api, schema.name(), Dataset::cpe);
    EXPECT_EQ(runs(schema, Dataset::cpe).back().status, "succeeded");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, ApiFault,
    ::testing::Values(
        // Retry-After: 0 keeps a storm of 31 answers quick; the client gives up after 30.
        FaultCase{"StormOf429sThatNeverEnds", "fault-429-rate=1&fault-retry-after=0", "429", false,
                  "still throttled after 31 answers of 429"},
        FaultCase{"StormOf429sThatPasses", "fault-429-rate=1&fault-retry-after=1&fault-count=2", "429", true,
                  "api throttled"},
        FaultCase{"BurstOf5xx", "fault-5xx-rate=1&fault-count=3", "5xx", true, "api retry"},
        FaultCase{"OutageOf5xx", "fault-5xx-rate=1", "5xx", false, "failed after 8 attempts: HTTP 50"},
        FaultCase{"ConnectionResets", "fault-reset-rate=1&fault-count=3", "reset", true, "api retry"},
        FaultCase{"TruncatedBodies", "fault-truncate-rate=1&fault-count=3", "truncate", true, "truncated body"},
        FaultCase{"SlowAnswersPastTheTimeout", "fault-slow-rate=1&fault-slow-ms=6000&fault-count=1", "slow", true,
                  "timed out after", "json", false, 50, "2s"},
        FaultCase{"MalformedJsonOnce", "fault-malformed-rate=1&fault-count=2", "malformed", true, "bad page"},
        // Pages 1 and 2 are staged before page 3 breaks for good: the staged pages must not apply.
        FaultCase{"MalformedJsonFromPage3On", "fault-malformed-rate=1&fault-start-after=2", "malformed", false,
                  "page 3 of "},
        FaultCase{"HtmlLoginPageForJson", "fault-html-rate=1", "html", false,
                  "page is not a JSON object: starts with \"<!DOCTYPE html>"},
        // Page 1 of the changes commits, page 2 never comes: the watermark stays.
        FaultCase{"HtmlLoginPageMidIncremental", "fault-html-rate=1&fault-start-after=1", "html", false, "page 2 of ",
                  "json", true, 10},
        FaultCase{"TruncatedGzipExportFile", "fault-export-truncate-rate=1", "export_truncate", false,
                  "(after 3 downloads)", "export"},
        FaultCase{"TruncatedGzipExportFileOnce", "fault-export-truncate-rate=1&fault-count=2", "export_truncate", true,
                  "file retry", "export"},
        FaultCase{"ExportResetsMidBody", "fault-export-reset-rate=1&fault-count=3", "export_reset", true,
                  "download retry", "export"},
        FaultCase{"ExpiredSasOnce", "fault-sas-expired-rate=1&fault-count=2", "sas_expired", true,
                  "download url refused", "export"},
        FaultCase{"ExpiredSasForGood", "fault-sas-expired-rate=1", "sas_expired", false,
                  "storage refused the signed URL 3 times", "export"}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mdesync::testing
