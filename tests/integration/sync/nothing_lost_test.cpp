// Nothing the API sends is lost (issue 12): long values, undocumented fields,
// "None" end-of-support statuses, snapshots regenerated or older than the one
// applied, long tenant names, and the shapes real tenants send. Each through the
// mdesync binary against the simulator and the real PostgreSQL, on the JSON and
// on the export path where both apply.
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


// One value of a query with parameters, "" for NULL.
template <typename... Args>
std::string query(const std::string& sql, Args&&... args) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  const auto r = tx.exec_params1(sql, std::forward<Args>(args)...);
  return r[0].is_null() ? std::string() : r[0].template as<std::string>();
}

std::string json_string(const std::string& s) { return "\"" + s + "\""; }

// A long value of `bytes` bytes, with a tag so two of them never look alike.
std::string long_value(const std::string& tag, std::size_t bytes) {
  std::string v = tag + ":";
  while (v.size() < bytes) v += "abcdefghij KLMNOPQRST 0123456789 .,;{}[]/";
  v.resize(bytes);
  return v;
}

class LongValues : public ::testing::TestWithParam<std::string> {};

// A CPE record of device `device` whose non-key fields are all long.
std::string long_record(const std::string& device, const std::string& version, std::size_t bytes) {
  return R"({"deviceId":")" + device + R"(","rbacGroupName":)" + json_string(long_value("group", bytes)) +
         R"(,"deviceName":)" + json_string(long_value("name", bytes)) + R"(,"osPlatform":)" +
         json_string(long_value("os", bytes)) + R"(,"softwareVendor":"vendor","softwareName":"long-software",)"
         R"("softwareVersion":")" + version + R"(","numberOfWeaknesses":7,"diskPaths":[)" +
         json_string(long_value("disk1", bytes)) + "," + json_string(long_value("disk2", bytes)) +
         R"(],"registryPaths":[)" + json_string(long_value("reg1", bytes)) +
         R"(],"softwareFirstSeenTimestamp":"2021-01-30 11:31:12","endOfSupportStatus":)" +
         json_string(long_value("eos", bytes)) + R"(,"endOfSupportDate":null})";
}

void expect_long_row(const TempSchema& schema, const std::string& device, const std::string& version,
                     std::size_t bytes) {
  const std::string table = in_schema(schema, "software_inventory");
  const std::string where = " FROM " + table + " WHERE device_id = $1 AND software_version = $2 AND removed_at IS NULL";
  EXPECT_EQ(query("SELECT device_name = $3 AND rbac_group_name = $4 AND os_platform = $5 AND end_of_support_status = $6" +
                      where,
                  device, version, long_value("name", bytes), long_value("group", bytes), long_value("os", bytes),
                  long_value("eos", bytes)),
            "t")
      << device << " " << version;
  EXPECT_EQ(query("SELECT disk_paths = ARRAY[$3, $4] AND registry_paths = ARRAY[$5]" + where, device, version,
                  long_value("disk1", bytes), long_value("disk2", bytes), long_value("reg1", bytes)),
            "t")
      << device << " " << version;
}

TEST_P(LongValues, EveryNonKeyFieldIsStoredExactlyAtAnyLengthInFirstLoadsMergesAndTheChangeLog) {
  const std::string via = GetParam();
  TempSchema schema("long");
  FakeApi api({"--noncpe-per-device", "0"}, 5);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, via));
  // 10 KB in every non-key field, and a record of about 1 MB.
  api.inject(Dataset::cpe, long_record("long-10k", "1.0", 10 * 1024) + "\n" +
                               long_record("long-1m", "1.0", 150 * 1024) + "\n");
  auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});  // the first load
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query("SELECT rows_rejected FROM " + in_schema(schema, "sync_runs") + " WHERE id = (SELECT max(id) FROM " +
                  in_schema(schema, "sync_runs") + ") AND $1 = $1", std::string("x")),
            "0");
  expect_long_row(schema, "long-10k", "1.0", 10 * 1024);
  expect_long_row(schema, "long-1m", "1.0", 150 * 1024);
  EXPECT_GE(std::stoll(query("SELECT octet_length(t::text) FROM " + in_schema(schema, "software_inventory") +
                             " t WHERE device_id = $1", std::string("long-1m"))),
            1000 * 1000);
  // A merge: both devices upgrade, which the change log records with the long device name.
  api.inject(Dataset::cpe, long_record("long-10k", "2.0", 10 * 1024) + "\n" +
                               long_record("long-1m", "2.0", 150 * 1024) + "\n");
  r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_long_row(schema, "long-10k", "2.0", 10 * 1024);
  expect_long_row(schema, "long-1m", "2.0", 150 * 1024);
  EXPECT_EQ(query("SELECT count(*) FROM " + in_schema(schema, "software_changes") +
                      " WHERE change = 'upgraded' AND device_name = $1 AND old_version = '1.0' AND new_version = '2.0'",
                  long_value("name", 10 * 1024)),
            "1");
  // And device_weaknesses, whose index used to hold these columns, shows them whole.
  EXPECT_EQ(query("SELECT device_name = $1 FROM " + in_schema(schema, "device_weaknesses") + " WHERE device_id = 'long-1m'",
                  long_value("name", 150 * 1024)),
            "t");
}

INSTANTIATE_TEST_SUITE_P(BothPaths, LongValues, ::testing::Values("json", "export"),
                         [](const auto& info) { return info.param; });

TEST(NothingLost, OnlyAKeyTooLongForThePrimaryKeyIsRejectedWithTheReasonAndTheLimitInSyncRuns) {
  TempSchema schema("longkey");
  FakeApi api({"--noncpe-per-device", "0"}, 3);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, "json"));
  api.inject(Dataset::cpe, R"({"deviceId":"k","softwareName":"s","softwareVersion":")" + std::string(3000, 'v') +
                               "\"}\n");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("more than the 2660 the primary key can hold"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT rows_rejected || ' ' || (rejections->0->>'reason') FROM " +
                        in_schema(schema, "sync_runs")),
            "1 deviceId, softwareVendor, softwareName and softwareVersion together with the tenant are 3009 bytes, "
            "more than the 2660 the primary key can hold");
  EXPECT_NE(query_value("SELECT rejections->0->>'where' FROM " + in_schema(schema, "sync_runs")).find("page "),
            std::string::npos);
}

TEST(NothingLost, NoIndexHoldsAnUnboundedNonKeyTextColumn) {
  TempSchema schema("indexes");
  FakeApi api({}, 2);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, "json"));
  ASSERT_EQ(run_mdesync(config, {"migrate"}).exit_code, 0);
  // Every text column an index of the inventory tables holds, as key or INCLUDE.
  const auto columns = query(
      "SELECT coalesce(string_agg(DISTINCT a.attname, ',' ORDER BY a.attname), '') FROM pg_index i "
      "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (i.indkey) "
      "WHERE n.nspname = $1 AND c.relname IN ('software_inventory', 'noncpe_software_inventory', 'software_changes') "
      "AND a.atttypid IN ('text'::regtype, 'text[]'::regtype, 'jsonb'::regtype)",
      schema.name());
  EXPECT_EQ(columns, "device_id,software_name,software_vendor,software_version,tenant");
}

TEST(NothingLost, EndOfSupportStatusNoneIsStoredAsSentAndMeansNoInformation) {
  TempSchema schema("eos");
  FakeApi api({"--noncpe-per-device", "0"}, 1);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, "json"));
  const auto record = [](const std::string& id, const std::string& status, const std::string& date) {
    return R"({"deviceId":")" + id + R"(","softwareName":"s","softwareVersion":"1","endOfSupportStatus":)" + status +
           R"(,"endOfSupportDate":)" + date + "}\n";
  };
  api.inject(Dataset::cpe, record("none", R"("None")", "null") + record("empty", R"("")", "null") +
                               record("null", "null", "null") + record("eos-version", R"("EOS Version")", "null") +
                               record("eos-software", R"("EOS Software")", R"("2020-01-01T00:00:00Z")") +
                               record("upcoming", R"("Upcoming EOS Version")", "null") +
                               record("upcoming-soft", R"("Upcoming EOS Software")", R"("2099-01-01T00:00:00Z")") +
                               record("none-dated", R"("None")", R"("2000-01-01T00:00:00Z")"));
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(query_value("SELECT end_of_support_status FROM " + in_schema(schema, "software_inventory") +
                        " WHERE device_id = 'none'"),
            "None");
  EXPECT_EQ(query_value("SELECT string_agg(device_id || ':' || exposure, ' ' ORDER BY device_id) FROM " +
                        in_schema(schema, "end_of_support_exposure") + " WHERE software_name = 's'"),
            "eos-software:past eos-version:past none-dated:past upcoming:near");
  // The partial index behind the view does not hold the rows without information.
  EXPECT_EQ(query_value("SELECT pg_get_indexdef('" + in_schema(schema, "software_inventory_end_of_support") +
                        "'::regclass) LIKE '%None%'"),
            "t");
}

TEST(NothingLost, UndocumentedFieldsAreKeptLoggedOncePerRunCountedAndChangeARowOnce) {
  for (const std::string via : {"json", "export"}) {
    TempSchema schema("extra");
    FakeApi api({"--noncpe-per-device", "0"}, 1);
    TempDir dir;
    const auto config = write_config(dir, api, config_for(schema, via));
    const auto record = [](int i, const std::string& extra) {
      return R"({"deviceId":"d)" + std::to_string(i) + R"(","softwareName":"s","softwareVersion":"1")" + extra + "}\n";
    };
    std::string plain, with_field;
    for (int i = 0; i < 5; ++i) {
      plain += record(i, "");
      with_field += record(i, R"(,"installedBy":{"user":"x","at":[1,2.5e3]},"Tags":null)");
    }
    api.inject(Dataset::cpe, plain);
    ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
    api.inject(Dataset::cpe, with_field);
    auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // Logged once per run and name, though five records carry it.
    std::size_t logged = 0;
    for (auto at = r.output.find("undocumented field"); at != std::string::npos;
         at = r.output.find("undocumented field", at + 1))
      logged += r.output.substr(at, r.output.find('\n', at) - at).find("field=installedBy") != std::string::npos;
    EXPECT_EQ(logged, 1u) << via << "\n" << r.output;
    const std::string runs = in_schema(schema, "sync_runs");
    EXPECT_EQ(query_value("SELECT undocumented_fields::text || ' ' || rows_upserted FROM " + runs +
                          " ORDER BY id DESC LIMIT 1"),
              R"({"Tags": 5, "installedBy": 5} 5)")
        << via;
    EXPECT_EQ(query_value("SELECT extra_fields::text FROM " + in_schema(schema, "software_inventory") +
                          " WHERE device_id = 'd3'"),
              R"({"Tags": null, "installedBy": {"at": [1, 2500], "user": "x"}})")
        << via;
    // The same snapshot again: the row digest covers the field, nothing is rewritten.
    api.admin_post("/_admin/regenerate?tenant=" + fake_tenant_id);
    r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(query_value("SELECT rows_upserted FROM " + runs + " ORDER BY id DESC LIMIT 1"), "0") << via;
  }
}

TEST(NothingLost, ASnapshotRegeneratedWhileDownloadingIsStartedOverInTheSameRun) {
  TempSchema schema("regen");
  FakeApi api({"--export-files", "6"}, 60);
  TempDir dir;
  auto options = config_for(schema, "export");
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  // The export's second answer is a new snapshot; a refused URL after a few files asks for it.
  api.admin_post("/_admin/regenerate?tenant=" + fake_tenant_id + "&dataset=cpe&on_export=2");
  api.admin_post("/_admin/faults?fault-sas-expired-rate=1&fault-start-after=3&fault-count=1");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("snapshot regenerated"), std::string::npos) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  // What was applied is the new snapshot, and the run says so.
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "sync_runs") + " r, " +
                        in_schema(schema, "sync_state") +
                        " s WHERE r.status = 'succeeded' AND r.snapshot_generated_at = s.snapshot_generated_at"),
            "1");
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "snapshot_files")), "0");
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("\"violations\":0"), std::string::npos) << stats;
}

TEST(NothingLost, ASnapshotThatKeepsChangingFailsAfterThreeRestartsWithinTheQuota) {
  TempSchema schema("regen");
  FakeApi api({"--export-files", "4"}, 40);
  TempDir dir;
  auto options = config_for(schema, "export");
  options.extra_sync = "  download_concurrency: 1\n";
  const auto config = write_config(dir, api, options);
  api.admin_post("/_admin/regenerate?tenant=" + fake_tenant_id + "&dataset=cpe&on_export=2&repeat=20");
  // Every snapshot's second file is refused, so each one's new URLs come with a new snapshot.
  api.admin_post("/_admin/faults?fault-sas-expired-rate=0.8&fault-seed=4");
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("regenerated 4 times while downloading"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(schema, "software_inventory")), "0");
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_NE(stats.find("\"violations\":0"), std::string::npos) << stats;
}

TEST(NothingLost, ASnapshotOlderThanTheAppliedOneIsSkippedUnlessForced) {
  TempSchema schema("older");
  FakeApi api({}, 20);
  TempDir dir;
  const auto config = write_config(dir, api, config_for(schema, "export"));
  ASSERT_EQ(run_mdesync(config, {"sync", "--dataset", "cpe"}).exit_code, 0);
  // As if a newer snapshot had been applied (another replica, a clock step back since).
  const std::string state = in_schema(schema, "sync_state");
  {
    pqxx::connection c(database_url());
    pqxx::nontransaction tx(c);
    tx.exec("UPDATE " + state + " SET snapshot_generated_at = snapshot_generated_at + interval '1 day'");
  }
  api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=0&uninstalls=5&upgrades=0&seed=3");
  api.admin_post("/_admin/regenerate?tenant=" + fake_tenant_id);
  const std::string table = in_schema(schema, "software_inventory");
  auto r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("snapshot older than applied"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) FROM " + table + " WHERE removed_at IS NOT NULL"), "0");
  EXPECT_NE(query_value("SELECT error FROM " + in_schema(schema, "sync_runs") + " ORDER BY id DESC LIMIT 1")
                .find("is older than the one applied"),
            std::string::npos);
  r = run_mdesync(config, {"sync", "--dataset", "cpe", "--mode", "full", "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
}

TEST(NothingLost, TenantsWithLongNamesThatShareAPrefixStageIntoTablesOfTheirOwnUnderRun) {
  TempSchema schema("tenants");
  const std::string second_id = "99999999-8888-7777-6666-555555555555";
  FakeApi api({"--tenant-id", second_id, "--export-files", "3"}, 40);
  TempDir dir;
  const std::string prefix(55, 'a');
  const std::string name_a = prefix + "-tenant1", name_b = prefix + "-tenant2";  // 63 characters each
  ASSERT_EQ(name_a.size(), 63u);
  auto options = config_for(schema, "export");
  options.tenant_name = name_a;
  // Short intervals: the first (full) syncs of all four jobs start within a second.
  options.extra_sync = "  incremental_interval: 10s\n  full_interval: 24h\n";
  options.extra_tenant = "  - name: " + name_b + "\n    tenant_id: \"" + second_id + "\"\n    client_id: \"" +
                         fake_client_id + "\"\n    client_secret_file: " + api.secret_file().string() +
                         "\n    api_url: " + api.base_url() + "\n    token_url: " + api.base_url() + "/" + second_id +
                         "/oauth2/v2.0/token\n";
  const auto config = write_config(dir, api, options);
  Process daemon({mdesync_binary(), "run", "--config", config.string()}, dir.path() / "run.log");
  const std::string state = in_schema(schema, "sync_state");
  bool done = false;
  for (int i = 0; i < 1200 && !done && daemon.running(); ++i) {
    try {
      done = query_value("SELECT count(*) FROM " + state + " WHERE snapshot_generated_at IS NOT NULL") == "4";
    } catch (const std::exception&) {
    }
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  daemon.kill(SIGTERM);
  daemon.wait();
  ASSERT_TRUE(done) << read_file(dir.path() / "run.log");
  for (const auto ds : {Dataset::cpe, Dataset::noncpe}) {
    const auto a = compare_with_truth(schema.name(), name_a, ds, api.truth(std::string(model::spec(ds).name)));
    EXPECT_TRUE(a.equal()) << name_a << ": " << a.missing_count << " missing, " << a.extra_count << " extra";
    const auto b =
        compare_with_truth(schema.name(), name_b, ds, api.truth(std::string(model::spec(ds).name), second_id));
    EXPECT_TRUE(b.equal()) << name_b << ": " << b.missing_count << " missing, " << b.extra_count << " extra";
  }
}

}  // namespace
}  // namespace mdesync::testing
