// Bad pages and files rather than bad records: bodies that are not JSON text, a page
// without `value`, empty pages and files, a nextLink that loops, records without a
// deviceId in a tenant that has no non-CPE software at all. Each ends in a clean
// success or a cleanly failed run that names the problem, applies nothing and
// leaves the watermark where it was.
#include <gtest/gtest.h>

#include <cstdio>
#include <utility>

#include "bad_input_support.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing::bad_input {
namespace {

using model::Dataset;

std::string dataset_name(Dataset ds) { return std::string(model::spec(ds).name); }

// What a failed run must leave: the table, the watermark and no injected row.
struct Before {
  std::string versions, watermark;
};
Before before(const std::string& schema, Dataset ds) { return {row_versions(schema, ds), watermark(schema, ds)}; }

void expect_nothing_applied(const std::string& schema, Dataset ds, const Before& b, const std::string& what) {
  EXPECT_EQ(row_versions(schema, ds), b.versions) << what << ": rows were written";
  EXPECT_EQ(watermark(schema, ds), b.watermark) << what << ": the watermark moved";
}

TEST(BadJsonPage, APageThatIsNotJsonTextFailsTheRunNamingThePageAndAppliesNothing) {
  TempSchema schema("badpage");
  FakeApi api(unpaced(), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), "json"));
  ASSERT_EQ(run_mdesync(config, {"sync"}).exit_code, 0);
  std::size_t tried = 0;
  for (const auto ds : model::all_datasets) {
    bool first = true;
    for (const auto& c : corpus(ds)) {
      if (!c.breaks_page) continue;
      ++tried;
      const Case a = plain(ds, "shape-a-" + c.name), b = plain(ds, "shape-b-" + c.name);
      api.inject(ds, a.record + "\n" + c.record + "\n" + b.record + "\n");
      // The page is read the same way in both modes: one incremental run per data set will do.
      std::vector<std::string> modes = {"full"};
      if (std::exchange(first, false)) modes.push_back("incremental");
      for (const auto& mode : modes) {
        const auto was = before(schema.name(), ds);
        const auto r = run_mdesync(config, {"sync", "--dataset", dataset_name(ds), "--mode", mode});
        const std::string what = dataset_name(ds) + " " + mode + " " + c.name;
        EXPECT_EQ(r.exit_code, 1) << what << "\n" << r.output.substr(0, 4000);
        const auto run = last_run(schema.name(), ds);
        EXPECT_EQ(run.status, "failed") << what;
        // The generated data fits one page; the injected page is the second.
        EXPECT_NE(run.error.find("page 2 of "), std::string::npos) << what << ": " << run.error;
        EXPECT_NE(run.error.find("JSON"), std::string::npos) << what << ": " << run.error;
        expect_nothing_applied(schema.name(), ds, was, what);
        EXPECT_FALSE(stored_row(schema.name(), ds, device_id(a))) << what;
      }
    }
    api.inject(ds, "");
    expect_table_equals_truth(api, schema.name(), ds);
  }
  EXPECT_GE(tried, 10u);
  std::printf("pages that are not JSON text tried: %zu\n", tried);
}

TEST(BadJsonPage, APageWithoutValueFailsTheRunAndAppliesNothing) {
  TempSchema schema("novalue");
  FakeApi api(unpaced(), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), "json"));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  api.inject(Dataset::cpe, "#page no-value\n" + plain(Dataset::cpe, "novalue").record + "\n");
  for (const std::string mode : {"full", "incremental"}) {
    const auto was = before(schema.name(), Dataset::cpe);
    const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", mode});
    EXPECT_EQ(r.exit_code, 1) << r.output;
    const auto run = last_run(schema.name(), Dataset::cpe);
    EXPECT_EQ(run.status, "failed") << mode;
    EXPECT_NE(run.error.find("page 2 of "), std::string::npos) << run.error;
    EXPECT_NE(run.error.find("page has no \"value\" array"), std::string::npos) << run.error;
    expect_nothing_applied(schema.name(), Dataset::cpe, was, mode);
  }
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
}

// Not a timing assertion: the bound only ends a run that would otherwise never end.
constexpr auto loop_bound = std::chrono::minutes(2);

// DISABLED: lib/schedule/pull.cpp follows every nextLink it gets, so a service
// whose nextLink points back at an earlier page keeps it paging forever (see the
// report of issue 7). Enable with the fix.
TEST(BadJsonPage, ANextLinkThatLoopsBackFailsTheRunInsteadOfPagingForever) {
  TempSchema schema("loop");
  FakeApi api(unpaced(), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), "json"));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  // To itself, to the page before it, and back to the first generated page.
  for (const std::string shape : {"#page next=0\n", "#page\n#page next=0\n", "#page next=first\n"}) {
    api.inject(Dataset::cpe, shape + plain(Dataset::cpe, "loop").record + "\n");
    for (const std::string mode : {"full", "incremental"}) {
      const auto was = before(schema.name(), Dataset::cpe);
      const auto r = run({mdesync_binary(), "sync", "--dataset", "cpe", "--mode", mode, "--config", config.string()},
                         loop_bound);
      EXPECT_EQ(r.exit_code, 1) << shape << mode << ": " << r.output.substr(0, 4000);
      const auto run = last_run(schema.name(), Dataset::cpe);
      EXPECT_EQ(run.status, "failed") << shape << mode;
      EXPECT_NE(run.error.find("nextLink"), std::string::npos) << run.error;
      EXPECT_EQ(watermark(schema.name(), Dataset::cpe), was.watermark) << shape << mode;
      if (mode == "full") expect_nothing_applied(schema.name(), Dataset::cpe, was, shape + mode);
    }
  }
}

class EmptyInput : public ::testing::TestWithParam<std::string> {};

TEST_P(EmptyInput, EmptyPagesAndFilesAreFineAndRecordsWithoutDeviceIdAreRejectedAndCounted) {
  TempSchema schema("empty");
  // No non-CPE software at all: the injected records are the whole data set.
  FakeApi api(unpaced({"--noncpe-per-device", "0", "--export-files", "1"}), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), GetParam()));
  const Case a = plain(Dataset::noncpe, "empty-a"), b = plain(Dataset::noncpe, "empty-b");
  std::string no_device_id = a.record, null_device_id = a.record;
  no_device_id.replace(0, no_device_id.find(',') + 1, "{");
  null_device_id.replace(0, null_device_id.find(','), R"({"deviceId":null)");
  // Empty pages (files) first, between and last; records without a deviceId among good ones.
  api.inject(Dataset::noncpe,
         "#page\n#page\n" + a.record + "\n" + no_device_id + "\n#page\n#page\n" + null_device_id + "\n" + b.record +
             "\n#page\n");
  api.inject(Dataset::cpe, "#page\n#page\n" + plain(Dataset::cpe, "empty-c").record + "\n#page\n");
  const auto r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output.substr(0, 8000);
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".noncpe_software_inventory"), "2");
  EXPECT_EQ(stored_row(schema.name(), Dataset::noncpe, device_id(a)), with_jsonb(a.expect));
  EXPECT_EQ(stored_row(schema.name(), Dataset::noncpe, device_id(b)), with_jsonb(b.expect));
  const auto noncpe = last_run(schema.name(), Dataset::noncpe);
  EXPECT_EQ(noncpe.status, "succeeded") << noncpe.error;
  EXPECT_EQ(noncpe.received, 4);
  EXPECT_EQ(noncpe.rejected, 2);
  std::size_t logged = 0;
  for (auto at = r.output.find("missing deviceId"); at != std::string::npos;
       at = r.output.find("missing deviceId", at + 1))
    ++logged;
  EXPECT_EQ(logged, 2u) << r.output.substr(0, 8000);
  const auto d = compare_with_truth(schema.name(), "contoso", Dataset::cpe, api.truth("cpe"));
  EXPECT_EQ(d.missing_count, 0);
  EXPECT_EQ(d.extra_count, 1);
  EXPECT_EQ(last_run(schema.name(), Dataset::cpe).status, "succeeded");
}

INSTANTIATE_TEST_SUITE_P(BothPaths, EmptyInput, ::testing::Values("json", "export"),
                         [](const auto& info) { return info.param; });

TEST(BadExportFile, AZeroByteFileFailsTheRunNamingTheFileAndTheNextRunConverges) {
  TempSchema schema("zerobytes");
  FakeApi api(unpaced({"--export-files", "2"}), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), "export"));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  const auto was = before(schema.name(), Dataset::cpe);
  api.inject(Dataset::cpe, "#page zero-bytes\n");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto run = last_run(schema.name(), Dataset::cpe);
  EXPECT_EQ(run.status, "failed");
  EXPECT_NE(run.error.find("injected-00000.json.gz"), std::string::npos) << run.error;
  expect_nothing_applied(schema.name(), Dataset::cpe, was, "zero-byte file");
  api.inject(Dataset::cpe, "#page\n");  // now an empty, but valid, gzip file
  const auto again = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  EXPECT_EQ(again.exit_code, 0) << again.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
}

}  // namespace
}  // namespace mdesync::testing::bad_input
