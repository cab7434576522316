// What real tenants send and our simulator's generator never makes (issue 12,
// point 8), each served as a fixture on the JSON and the export path: names
// ending in U+0000, keys in PascalCase beside camelCase, null fields left out,
// rbacGroupId as a number and as a string, export files split by RBAC group,
// and a storage answer with no body at all.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"
#include "sync_test_support.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;


// The injected rows of a table, one line each, in a form both paths must agree on.
std::string rows_of(const TempSchema& schema, Dataset ds, const std::string& like) {
  const std::string cols = ds == Dataset::cpe ? "device_id, device_name, os_platform, software_name, software_version, "
                                                "number_of_weaknesses, disk_paths, end_of_support_date AT TIME ZONE 'UTC'"
                                              : "device_id, rbac_group_id, device_name, os_platform, software_name, "
                                                "software_version, software_last_seen_timestamp AT TIME ZONE 'UTC'";
  return query_value("SELECT string_agg(concat_ws('|', " + cols + ", extra_fields::text), E'\\n' ORDER BY device_id, "
                     "software_name) FROM " + in_schema(schema, std::string(model::spec(ds).table)) +
                     " WHERE device_id LIKE '" + like + "'");
}

class RealShapes : public ::testing::TestWithParam<std::string> {};

TEST_P(RealShapes, NonCpeNamesEndingInNulAreStoredWithoutItAndKeysThatBecomeEqualAreOneRow) {
  const std::string via = GetParam();
  TempSchema schema("nul");
  FakeApi api({}, 3);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, via));
  // As a real non-CPE answer has it; then the same key without the U+0000, which
  // comes later and so wins, and a U+0000 inside a value.
  api.inject(Dataset::noncpe,
             R"({"deviceId":"nul-1","rbacGroupId":3,"rbacGroupName":"g","deviceName":"first","osPlatform":"Windows10",)"
             R"("softwareVendor":"microsoft","softwareName":"microsoft_wtt_2.6_-_client\u0000","softwareVersion":"2.6",)"
             R"("softwareLastSeenTimestamp":"2022-05-30 15:35:12"})" "\n"
             R"({"deviceId":"nul-1","rbacGroupId":3,"rbacGroupName":"g","deviceName":"later","osPlatform":"Windows10",)"
             R"("softwareVendor":"microsoft","softwareName":"microsoft_wtt_2.6_-_client","softwareVersion":"2.6",)"
             R"("softwareLastSeenTimestamp":"2022-05-30 15:35:12"})" "\n"
             R"({"deviceId":"nul-2","deviceName":"a\u0000b","softwareName":"tool\u0000","softwareVersion":"1"})" "\n");
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(rows_of(schema, Dataset::noncpe, "nul-%"),
            "nul-1|3|later|Windows10|microsoft_wtt_2.6_-_client|2.6|2022-05-30 15:35:12\n"
            "nul-2|a\xEF\xBF\xBD" "b|tool|1|" R"({"_original": {"deviceName": "\"a\\u0000b\"", "softwareName": "\"tool\\u0000\""}})")
      << via;
  EXPECT_EQ(query_value("SELECT rows_altered || ' ' || rows_rejected FROM " + in_schema(schema, "sync_runs") +
                        " ORDER BY id DESC LIMIT 1"),
            "2 0");
  EXPECT_NE(r.output.find("event=\"record altered\""), std::string::npos) << r.output;
}

TEST_P(RealShapes, PascalCaseKeysOmittedNullsAndRbacGroupIdsAsStringsStoreLikeTheirCamelCaseTwins) {
  const std::string via = GetParam();
  TempSchema schema("case");
  FakeApi api({}, 3);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, via));
  // Export lines (Spark's writer) mix OSPlatform and OsPlatform in one file and
  // leave null fields out; JSON pages spell every field, null included.
  const bool export_lines = via == "export";
  api.inject(Dataset::noncpe,
             export_lines
                 ? R"({"DeviceId":"case-1","RbacGroupId":"7","DeviceName":"h1","OSPlatform":"Windows10","SoftwareVendor":"v","SoftwareName":"n","SoftwareVersion":"1"})"
                   "\n"
                   R"({"deviceId":"case-2","rbacGroupId":7,"deviceName":"h2","OsPlatform":"Linux","softwareName":"n","softwareVersion":"2"})"
                   "\n"
                   R"({"deviceId":"case-3","rbacGroupId":"not-a-number","softwareName":"n"})"
                   "\n"
                 : R"({"deviceId":"case-1","rbacGroupId":7,"rbacGroupName":null,"deviceName":"h1","osPlatform":"Windows10","softwareVendor":"v","softwareName":"n","softwareVersion":"1","softwareLastSeenTimestamp":null})"
                   "\n"
                   R"({"deviceId":"case-2","rbacGroupId":"7","rbacGroupName":null,"deviceName":"h2","osPlatform":"Linux","softwareVendor":null,"softwareName":"n","softwareVersion":"2","softwareLastSeenTimestamp":null})"
                   "\n"
                   R"({"deviceId":"case-3","rbacGroupId":"not-a-number","rbacGroupName":null,"deviceName":null,"osPlatform":null,"softwareVendor":null,"softwareName":"n","softwareVersion":null,"softwareLastSeenTimestamp":null})"
                   "\n");
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(rows_of(schema, Dataset::noncpe, "case-%"),
            "case-1|7|h1|Windows10|n|1\n"
            "case-2|7|h2|Linux|n|2\n"
            R"(case-3|n||{"_original": {"rbacGroupId": "\"not-a-number\""}})")
      << via;
}

INSTANTIATE_TEST_SUITE_P(BothPaths, RealShapes, ::testing::Values("json", "export"),
                         [](const auto& info) { return info.param; });

TEST(RealExportFiles, FilesSplitByRbacGroupAreAllStagedAndResumedByTheirFullPath) {
  TempSchema schema("rbac");
  FakeApi api({"--export-layout", "rbac", "--export-files", "8"}, 1000);
  TempDir dir;
  auto options = config_for(schema, "export");
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  // The same base name under two groups, parts that do not start at 0: every file counts.
  const std::string staged_files = in_schema(schema, "snapshot_files");
  {
    Process p({mdesync_binary(), "sync", "--dataset", "cpe", "--config", config.string()}, dir.path() / "killed.log");
    bool staged = false;
    for (int i = 0; i < 3000 && p.running() && !staged; ++i) {
      try {
        staged = std::stol(query_value("SELECT count(*) FROM " + staged_files)) >= 2;
      } catch (const std::exception&) {
      }
      if (!staged) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    const bool killed_mid_run = p.running();
    p.kill(SIGKILL);
    p.wait();
    ASSERT_TRUE(staged && killed_mid_run) << read_file(dir.path() / "killed.log");
  }
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_NE(r.output.find("_RbacGroupId="), std::string::npos) << r.output;
  // The files staged before the kill were not downloaded again.
  EXPECT_EQ(r.output.find("already_staged=0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("already_staged="), std::string::npos) << r.output;
}

TEST(RealExportFiles, AStorageAnswerWithNoBodyIsFetchedAgainThenRenewed) {
  TempSchema schema("empty");
  FakeApi api({"--export-files", "3"}, 40);
  TempDir dir;
  auto options = config_for(schema, "export");
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  // Three empty 200s in a row: one more download of the same URL, then new URLs.
  api.admin_post("/_admin/faults?fault-export-empty-rate=1&fault-count=3");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_NE(r.output.find("empty body"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("download url refreshed"), std::string::npos) << r.output;
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("\"export_empty\":3"), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"violations\":0"), std::string::npos) << stats;
}

}  // namespace
}  // namespace mdesync::testing
