#include "simulator_data.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "core/timestamp.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

std::string cpe_record(const std::string& device, const std::string& name, const std::string& version,
                       const std::string& more = "") {
  return R"({"deviceId":")" + device + R"(","deviceName":")" + device + R"(.lab.contoso.com","osPlatform":"Windows11",)"
         R"("rbacGroupName":"Lab","softwareVendor":"acme","softwareName":")" + name + R"(","softwareVersion":")" +
         version + "\"" + more + "}\n";
}

}  // namespace

SimulatorData::SimulatorData(const std::string& prefix) : schema_(prefix), api_({}, 120, 5) {}

std::string SimulatorData::in_schema(const std::string& sql) const {
  return std::regex_replace(sql, std::regex(R"(\bmde\.)"), "\"" + schema() + "\".");
}

void SimulatorData::sync() {
  // Pages this big keep four syncs of both data sets far below 30 calls a minute.
  const auto config = write_config(dir_, api_, {.schema = schema(), .page_size = 20000});
  const std::string changes = in_schema("mde.software_changes");
  const std::string eos_date = format_iso8601_utc(std::chrono::system_clock::now() - std::chrono::hours(72));
  const std::string lab = cpe_record("lab-1", "legacy_console", "4.2",
                                     R"(,"numberOfWeaknesses":3,"endOfSupportStatus":"EOS Version","endOfSupportDate":")" +
                                         eos_date + "\"");
  api_.inject(Dataset::cpe, lab + cpe_record("kiosk-7", "kiosk", "1.0") + cpe_record("kiosk-7", "kiosk_agent", "2.1"));
  api_.inject(Dataset::noncpe, R"({"deviceId":"kiosk-7","rbacGroupId":5,"rbacGroupName":"Lab","deviceName":"kiosk-7",)"
                               R"("osPlatform":"Windows11","softwareVendor":"acme","softwareName":"kiosk_tools",)"
                               R"("softwareVersion":"3"})"
                               "\n");
  auto r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) FROM " + changes), "0");  // the first sync is the baseline

  // Changes in the tenant; kiosk-7 vanishes from both data sets; lab-1 gets software new to the tenant.
  api_.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=30&uninstalls=20&upgrades=40&seed=4");
  api_.inject(Dataset::cpe, lab + cpe_record("lab-1", "brand_new_tool", "1.0"));
  api_.inject(Dataset::noncpe, "");
  r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* change : {"installed", "removed", "upgraded", "device_gone"})
    EXPECT_NE(query_value("SELECT count(*) FROM " + changes + " WHERE change = '" + change + "'"), "0") << change;
  EXPECT_EQ(query_value("SELECT string_agg(dataset || ' ' || software_name || ' ' || change, ', '"
                        " ORDER BY dataset, software_name) FROM " + changes + " WHERE device_id = 'kiosk-7'"),
            "cpe kiosk device_gone, cpe kiosk_agent device_gone, noncpe kiosk_tools device_gone");
  EXPECT_EQ(query_value("SELECT change FROM " + changes + " WHERE software_name = 'brand_new_tool'"), "installed");
  // Every event belongs to a full run of this schema.
  EXPECT_EQ(query_value("SELECT count(*) FROM " + changes + " c LEFT JOIN " + in_schema("mde.sync_runs") +
                        " s ON s.id = c.run_id AND s.mode = 'full' WHERE s.id IS NULL"),
            "0");

  // Nothing changed in the tenant: a full resync records nothing.
  const auto before = query_value("SELECT count(*) || '/' || max(id) FROM " + changes);
  r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) || '/' || max(id) FROM " + changes), before);

  api_.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=10&upgrades=5&seed=8");
  r = run_mdesync(config, {"sync", "--mode", "incremental"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace mdesync::testing
