// Full snapshots from the export files, against the simulator and the real
// PostgreSQL, through the mdesync binary.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

std::string in_schema(const TempSchema& s, const std::string& table) { return "\"" + s.name() + "\"." + table; }

// Files staged so far; 0 while the schema is not there yet.
long staged_files(const TempSchema& schema) {
  try {
    return std::stol(query_value("SELECT count(*) FROM " + in_schema(schema, "snapshot_files")));
  } catch (const std::exception&) {
    return 0;
  }
}

ConfigOptions export_config(const TempSchema& schema) {
  ConfigOptions o{.schema = schema.name()};
  o.full_via = "export";
  o.extra_sync = "  download_concurrency: 3\n";
  return o;
}

TEST(ExportSync, AFullSnapshotEqualsTheTruthFieldByField) {
  TempSchema schema("export");
  // CRLF line ends, as some exports have them.
  FakeApi api({"--export-files", "4", "--export-crlf"}, 80);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  const auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("contoso cpe full succeeded"), std::string::npos) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  // The watermark is generatedTime minus the overlap (0s here).
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "sync_state") +
                        " WHERE watermark = snapshot_generated_at"),
            "2");
}

TEST(ExportSync, AnAppliedSnapshotIsNotDownloadedAgain) {
  TempSchema schema("export");
  FakeApi api({}, 20);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  api.admin_post("/_admin/reset-stats");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("already applied"), std::string::npos) << r.output;
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_EQ(stats.find("/_blob/"), std::string::npos) << "files were downloaded again: " << stats;
}

TEST(ExportSync, UninstalledSoftwareIsMarkedRemovedAtGeneratedTimeAndComesBack) {
  TempSchema schema("export");
  FakeApi api({}, 40);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "noncpe"}).exit_code, 0);
  const auto mutation =
      api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=0&uninstalls=12&upgrades=0&seed=4");
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  const std::string table = in_schema(schema, "noncpe_software_inventory");
  const auto removed = std::stoll(query_value("SELECT count(*) FROM " + table + " WHERE removed_at IS NOT NULL"));
  EXPECT_GT(removed, 0);
  EXPECT_LE(removed, 12) << mutation;
  EXPECT_EQ(query_value("SELECT bool_and(t.removed_at = s.snapshot_generated_at) FROM " + table + " t, " +
                        in_schema(schema, "sync_state") + " s WHERE s.dataset = 'noncpe' AND t.removed_at IS NOT NULL"),
            "t");
  EXPECT_EQ(query_value("SELECT rows_removed FROM " + in_schema(schema, "sync_runs") + " ORDER BY id DESC LIMIT 1"),
            std::to_string(removed));
}

TEST(ExportSync, TheMassRemovalGuardHoldsBackUntilForced) {
  TempSchema schema("guard");
  FakeApi api({}, 30);
  TempDir dir;
  auto options = export_config(schema);
  options.extra_sync += "  max_removal_ratio: 0.05\n";
  const auto config = write_config(dir, api, options);
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=0&uninstalls=200&upgrades=0&seed=2");
  auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("guarded"), std::string::npos) << r.output;
  const std::string table = in_schema(schema, "software_inventory");
  EXPECT_EQ(query_value("SELECT count(*) FROM " + table + " WHERE removed_at IS NOT NULL"), "0");
  EXPECT_EQ(query_value("SELECT status || ' ' || (removals_held_back > 0) FROM " + in_schema(schema, "sync_runs") +
                        " ORDER BY id DESC LIMIT 1"),
            "guarded true");
  r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full", "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
}

TEST(ExportSync, ResetsAndTruncatedGzipFilesRecover) {
  TempSchema schema("export");
  FakeApi api({"--export-files", "6", "--fault-seed", "3", "--fault-export-reset-rate", "0.3",
               "--fault-export-truncate-rate", "0.2"},
              60);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  const auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("faults_injected"), std::string::npos) << stats;
  EXPECT_TRUE(r.output.find("download retry") != std::string::npos || r.output.find("file retry") != std::string::npos)
      << "no fault reached the client:\n" << r.output;
}

TEST(ExportSync, AFileThatIsAlwaysTruncatedFailsTheRunCleanly) {
  TempSchema schema("export");
  FakeApi api({"--fault-export-truncate-rate", "1"}, 20);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("gzip"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "software_inventory")), "0");
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "sync_state")), "0");
  EXPECT_EQ(query_value("SELECT status FROM " + in_schema(schema, "sync_runs")), "failed");
}

TEST(ExportSync, NoLogLineCarriesASasSignatureOrAToken) {
  TempSchema schema("export");
  FakeApi api({"--export-files", "3", "--fault-seed", "9", "--fault-export-reset-rate", "0.3"}, 30);
  TempDir dir;
  const auto config = write_config(dir, api, export_config(schema));
  const auto r = run_mdesync(config, {"sync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("sig="), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("Bearer"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(fake_secret), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "snapshot_files") + " WHERE file LIKE '%?%'"), "0");
}

TEST(ExportSync, SignedUrlsThatExpireMidDownloadAreRenewedWithinTheQuota) {
  TempSchema schema("sas");
  // Every URL issued so far expires once two files have been served.
  FakeApi api({"--export-files", "6", "--export-revoke-after-downloads", "2"}, 60);
  TempDir dir;
  auto options = export_config(schema);
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("download url refused"), std::string::npos) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("\"violations\":0"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"403\""), std::string::npos) << "no URL expired: " << stats;
}

TEST(ExportSync, AKillMidSnapshotKeepsThePreviousStateAndTheNextSyncResumes) {
  TempSchema schema("kill");
  FakeApi api({"--export-files", "8"}, 400);
  TempDir dir;
  auto options = export_config(schema);
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  const std::string table = in_schema(schema, "software_inventory");
  const auto before = query_value("SELECT count(*) || '/' || sum(xmin::text::bigint) FROM " + table);
  const auto watermark = query_value("SELECT watermark FROM " + in_schema(schema, "sync_state"));
  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=50&uninstalls=30&upgrades=40&seed=5");
  {
    Process p({mdesync_binary(), "sync", "--dataset", "cpe", "--mode", "full", "--config", config.string()},
              dir.path() / "killed.log");
    // Kill once at least one file of the new snapshot is staged.
    bool staged = false;
    for (int i = 0; i < 600 && p.running() && !staged; ++i) {
      staged = staged_files(schema) > 0;
      if (!staged) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    p.kill(SIGKILL);
    p.wait();
    ASSERT_TRUE(staged) << read_file(dir.path() / "killed.log");
  }
  EXPECT_EQ(query_value("SELECT count(*) || '/' || sum(xmin::text::bigint) FROM " + table), before);
  EXPECT_EQ(query_value("SELECT watermark FROM " + in_schema(schema, "sync_state")), watermark);
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find("already_staged=0"), std::string::npos) << "nothing was resumed:\n" << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "snapshot_files")), "0");
}

}  // namespace
}  // namespace mdesync::testing
