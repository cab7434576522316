// The database refuses one row of a batch (a full disk or an exhausted quota looks
// like this to mdesync: a statement error in the upsert). The batch rolls back as a
// whole: no row of it is visible, the watermark stays, sync_runs says why, and once
// the obstacle is gone the next run converges.
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "reliability_support.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

const std::string refusal = "could not extend file: No space left on device (injected by the test)";

struct Key {
  std::string device_id, software_name;
};

// The first CPE record a /_admin/mutate answer says was installed.
Key first_installed(const std::string& mutation) {
  const std::regex re(R"re("cpe"\s*:\s*\{\s*"installed"\s*:\s*\[\s*\{)re"
                      R"re("deviceId":"([^"]*)","softwareVendor":"[^"]*","softwareName":"([^"]*)")re");
  std::smatch m;
  if (!std::regex_search(mutation, m, re)) {
    ADD_FAILURE() << "no installed CPE record in " << mutation;
    return {};
  }
  return {m[1], m[2]};
}

// A trigger that fails any write of that one row the way a full disk fails it.
void refuse_writes_of(const TempSchema& schema, const Key& key) {
  pqxx::connection c(database_url());
  pqxx::work tx(c);
  const std::string fn = in_schema(schema, "refuse_row");
  tx.exec("CREATE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '" + refusal +
          "' USING ERRCODE = 'disk_full'; END $$");
  tx.exec("CREATE TRIGGER refuse_row BEFORE INSERT OR UPDATE ON " + in_schema(schema, "software_inventory") +
          " FOR EACH ROW WHEN (NEW.device_id = " + tx.quote(key.device_id) + " AND NEW.software_name = " +
          tx.quote(key.software_name) + ") EXECUTE FUNCTION " + fn + "()");
  tx.commit();
}

void allow_writes(const TempSchema& schema) {
  pqxx::connection c(database_url());
  pqxx::work tx(c);
  tx.exec("DROP TRIGGER refuse_row ON " + in_schema(schema, "software_inventory"));
  tx.commit();
}

struct Mode {
  const char* name;
  std::string full_via;
  bool incremental;
};

std::ostream& operator<<(std::ostream& os, const Mode& m) { return os << m.name; }

class StatementError : public ::testing::TestWithParam<Mode> {};

TEST_P(StatementError, RollsBackTheBatchKeepsTheWatermarkAndTheNextRunConverges) {
  const Mode& m = GetParam();
  TempSchema schema("stmt");
  FakeApi api(without_quotas(), 20);
  TempDir dir;
  auto options = reliability_config(schema, m.full_via);
  options.page_size = 1000;  // every change in one batch
  const auto config = write_config(dir, api, options);
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  const auto old_truth = api.truth("cpe");
  const auto old_watermark = watermark(schema, Dataset::cpe);
  const auto mutation = api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id +
                                       (m.incremental ? "&installs=8&uninstalls=0&upgrades=0&reassess=8&seed=21"
                                                      : "&installs=8&uninstalls=4&upgrades=4&reassess=4&seed=21"));
  refuse_writes_of(schema, first_installed(mutation));
  const std::string mode = m.incremental ? "incremental" : "full";

  auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", mode});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(refusal), std::string::npos) << r.output;
  const auto last = runs(schema, Dataset::cpe).back();
  EXPECT_EQ(last.status, "failed");
  EXPECT_NE(last.error.find(refusal), std::string::npos) << last.error;
  const auto d = diff(schema, Dataset::cpe, old_truth);
  EXPECT_TRUE(d.equal()) << "rows of the refused batch are visible: " << d.missing_count << " old rows missing, "
                         << d.extra_count << " others, e.g. " << (d.extra.empty() ? "" : d.extra[0]);
  EXPECT_EQ(watermark(schema, Dataset::cpe), old_watermark);

  allow_writes(schema);
  // The watermark comes from the API's Date header, to the second: let one pass
  // so that a moved watermark can be told from the old one.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", mode});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_NE(watermark(schema, Dataset::cpe), old_watermark);
}

INSTANTIATE_TEST_SUITE_P(Modes, StatementError,
                         ::testing::Values(Mode{"FullViaJson", "json", false}, Mode{"FullViaExport", "export", false},
                                           Mode{"Incremental", "json", true}),
                         [](const ::testing::TestParamInfo<Mode>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace mdesync::testing
