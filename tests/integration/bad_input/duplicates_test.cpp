// Duplicated records: the same key twice in a page and again in later pages or
// files. One row per key is stored, the last one sent wins where the order is
// defined (within a page or file, and page after page), and every copy is counted.
#include <gtest/gtest.h>

#include "bad_input_support.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing::bad_input {
namespace {

using model::Dataset;

// `c` with another deviceName: the same key, a different row.
std::string renamed(const Case& c, const std::string& device_name) {
  std::string record = c.record;
  record.replace(record.find("host.contoso.com"), 16, device_name);
  return record;
}

class Duplicates : public ::testing::TestWithParam<std::string> {};

TEST_P(Duplicates, OneRowPerKeyAndTheLastCopyWinsWithinAPageAndAcrossPages) {
  const bool json_path = GetParam() == "json";
  TempSchema schema("dups");
  FakeApi api(unpaced({"--export-files", "1"}), 5);
  TempDir dir;
  const auto config = write_config(dir, api, unpaced_config(schema.name(), GetParam()));
  for (const auto ds : model::all_datasets) {
    const Case a = plain(ds, "dup-a"), b = plain(ds, "dup-b"), c = plain(ds, "dup-c");
    // Page (file) 0: a twice, then a renamed; c. Page 1: b. Page 2: c again, b renamed.
    api.inject(ds,
           "#page\n" + a.record + "\n" + a.record + "\n" + renamed(a, "a-last") + "\n" + c.record + "\n#page\n" +
               b.record + "\n#page\n" + c.record + "\n" + renamed(b, "b-later") + "\n");
  }
  const auto r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto ds : model::all_datasets) {
    const std::string name(model::spec(ds).name);
    const auto rows = stored_rows(schema.name(), ds);
    ASSERT_EQ(rows.size(), 3u) << name;
    EXPECT_EQ(rows.at("bi-dup-a").at("device_name"), "a-last") << name;
    EXPECT_EQ(rows.at("bi-dup-c"), with_jsonb(plain(ds, "dup-c").expect)) << name;
    const auto b = rows.at("bi-dup-b").at("device_name");
    if (json_path) {
      EXPECT_EQ(b, "b-later") << name;
    } else {
      // Files are staged side by side: which of two different copies in two
      // files arrives last is not defined, only that exactly one is kept whole.
      EXPECT_TRUE(b == "b-later" || b == "host.contoso.com") << name << ": " << b.value_or("NULL");
    }
    const auto run = last_run(schema.name(), ds);
    EXPECT_EQ(run.status, "succeeded") << run.error;
    EXPECT_EQ(run.rejected, 0);
    const auto d = compare_with_truth(schema.name(), "contoso", ds, api.truth(name));
    EXPECT_EQ(d.missing_count, 0) << name;
    EXPECT_EQ(d.extra_count, 3) << name;
    EXPECT_EQ(run.received, d.truth_rows + 7) << name;  // every copy is counted as received
  }
  if (json_path) {
    // Incrementally each page is its own upsert: the later page still wins.
    const auto again = run_mdesync(config, {"sync", "--mode", "incremental"});
    ASSERT_EQ(again.exit_code, 0) << again.output;
    for (const auto ds : model::all_datasets) {
      const auto rows = stored_rows(schema.name(), ds);
      ASSERT_EQ(rows.size(), 3u);
      EXPECT_EQ(rows.at("bi-dup-a").at("device_name"), "a-last");
      EXPECT_EQ(rows.at("bi-dup-b").at("device_name"), "b-later");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BothPaths, Duplicates, ::testing::Values("json", "export"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mdesync::testing::bad_input
