// Memory stays bounded whatever the snapshot size: a 1,000,000-row export sync
// peaks under 200 MB of resident memory, and a 2,000,000-row one needs no more.
// This measures memory (wait4's ru_maxrss of the mdesync process), never time.
#include <gtest/gtest.h>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

constexpr long limit_kb = 200 * 1024;

struct Measured {
  long rows = 0;
  long max_rss_kb = 0;
};

Measured export_sync(int devices) {
  TempSchema schema("memory");
  // ~20 CPE records per device; quotas off so the run is not paced by the clock.
  FakeApi api({"--export-files", "8", "--json-per-minute", "0", "--json-per-hour", "0", "--export-per-minute", "0",
               "--export-per-hour", "0", "--noncpe-per-device", "1"},
              devices, 1);
  TempDir dir;
  ConfigOptions options{.schema = schema.name()};
  options.full_via = "export";
  options.extra_tenant = "    datasets: [cpe]\n";
  options.extra_sync = "  download_concurrency: 4\n";
  options.extra = "";
  const auto config = write_config(dir, api, options);
  const auto r = run({mdesync_binary(), "sync", "--config", config.string()}, std::chrono::minutes(10));
  EXPECT_EQ(r.exit_code, 0) << r.output.substr(0, 4000);
  Measured m;
  m.rows = std::stol(query_value("SELECT count(*) FROM \"" + schema.name() + "\".software_inventory"));
  m.max_rss_kb = r.max_rss_kb;
  return m;
}

TEST(ExportMemory, PeakResidentMemoryIsBoundedAtOneAndTwoMillionRows) {
  const auto one = export_sync(50'000);
  EXPECT_GE(one.rows, 1'000'000);
  EXPECT_GT(one.max_rss_kb, 0);
  EXPECT_LT(one.max_rss_kb, limit_kb) << "peak RSS at " << one.rows << " rows";
  const auto two = export_sync(100'000);
  EXPECT_GE(two.rows, 2'000'000);
  EXPECT_LT(two.max_rss_kb, limit_kb) << "peak RSS at " << two.rows << " rows";
  // Bounded, not proportional: twice the rows may not cost a second helping of memory.
  EXPECT_LT(two.max_rss_kb, one.max_rss_kb + 32 * 1024)
      << "1M rows: " << one.max_rss_kb << " KiB, 2M rows: " << two.max_rss_kb << " KiB";
  std::printf("peak RSS: %ld rows %ld KiB, %ld rows %ld KiB\n", one.rows, one.max_rss_kb, two.rows, two.max_rss_kb);
}

}  // namespace
}  // namespace mdesync::testing
