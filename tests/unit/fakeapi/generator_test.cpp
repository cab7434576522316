// The deterministic tenant generator and mutations.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <set>

#include "inventory.hpp"
#include "record_json.hpp"
#include "test_util.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

using model::Dataset;
using testing::keys_of;
using testing::truth_json;

const SystemTime start = std::chrono::sys_days{std::chrono::year{2024} / 3 / 1} + std::chrono::hours(12);

GeneratorOptions small(std::uint64_t seed = 7, std::uint32_t devices = 300) {
  GeneratorOptions o;
  o.seed = seed;
  o.devices = devices;
  return o;
}

TEST(Generator, SameSeedAndTenantGiveIdenticalRecords) {
  const TenantData a("tenant-a", small(), start), b("tenant-a", small(), start);
  EXPECT_EQ(truth_json(a, Dataset::cpe), truth_json(b, Dataset::cpe));
  EXPECT_EQ(truth_json(a, Dataset::noncpe), truth_json(b, Dataset::noncpe));
}

TEST(Generator, SerializedRecordsDoNotDependOnStartTime) {
  const TenantData a("tenant-a", small(), start), b("tenant-a", small(), start + std::chrono::hours(50));
  EXPECT_EQ(truth_json(a, Dataset::cpe), truth_json(b, Dataset::cpe));
  EXPECT_EQ(truth_json(a, Dataset::noncpe), truth_json(b, Dataset::noncpe));
}

TEST(Generator, DifferentSeedOrTenantGiveDifferentRecords) {
  const TenantData a("tenant-a", small(7), start), b("tenant-a", small(8), start), c("tenant-b", small(7), start);
  EXPECT_NE(truth_json(a, Dataset::cpe), truth_json(b, Dataset::cpe));
  EXPECT_NE(truth_json(a, Dataset::cpe), truth_json(c, Dataset::cpe));
  EXPECT_NE(truth_json(a, Dataset::noncpe), truth_json(b, Dataset::noncpe));
  EXPECT_NE(a.devices().front().id, b.devices().front().id);
}

TEST(Generator, KeysAreUniqueAndStrictlyIncreasing) {
  const TenantData t("tenant-a", small(), start);
  for (const auto d : model::all_datasets) {
    const auto keys = keys_of(t, d);
    ASSERT_GT(keys.size(), 1000u);
    for (std::size_t i = 1; i < keys.size(); ++i) ASSERT_LT(keys[i - 1], keys[i]) << "at " << i;
  }
}

TEST(Generator, ChangeTimesSpreadOverThirtyDaysBeforeStart) {
  const TenantData t("tenant-a", small(), start);
  SystemTime lo = SystemTime::max(), hi = SystemTime::min();
  for (const auto& r : t.cpe()) {
    lo = std::min(lo, r.changed_at);
    hi = std::max(hi, r.changed_at);
  }
  EXPECT_LE(hi, start);
  EXPECT_GE(lo, start - std::chrono::hours(24 * 30));
  EXPECT_GT(hi - lo, std::chrono::hours(24 * 20));
}

// Parses the truth and gathers what a realistic feed must contain.
struct Coverage {
  std::size_t records = 0, null_disk = 0, empty_disk = 0, backslash_paths = 0, null_registry = 0, hklm = 0,
              null_eos_date = 0, eos_date = 0, unicode_groups = 0, long_names = 0, bytes = 0;
  std::set<std::string> platforms, eos_statuses;
  std::map<std::string, std::size_t> per_device;
};

TEST(Generator, CpeRecordsCoverRealisticShapes) {
  const TenantData t("tenant-a", small(7, 400), start);
  const std::string json = truth_json(t, Dataset::cpe);
  simdjson::dom::parser parser;
  simdjson::dom::array arr = parser.parse(json);
  Coverage c;
  for (simdjson::dom::object o : arr) {
    ++c.records;
    const std::string_view id = o["deviceId"];
    ASSERT_EQ(id.size(), 40u);
    ASSERT_TRUE(std::all_of(id.begin(), id.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); }));
    ++c.per_device[std::string(id)];
    c.platforms.insert(std::string(std::string_view(o["osPlatform"])));
    const std::string_view group = o["rbacGroupName"];
    if (std::any_of(group.begin(), group.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; }))
      ++c.unicode_groups;
    if (std::string_view(o["deviceName"]).size() > 60) ++c.long_names;
    const std::int64_t w = o["numberOfWeaknesses"];
    ASSERT_GE(w, 0);
    ASSERT_LE(w, 200);
    simdjson::dom::element disk = o["diskPaths"];
    if (disk.is_null()) {
      ++c.null_disk;
    } else {
      simdjson::dom::array paths = disk;
      if (paths.size() == 0) ++c.empty_disk;
      for (std::string_view p : paths)
        if (p.starts_with("C:\\Program Files")) ++c.backslash_paths;
    }
    simdjson::dom::element reg = o["registryPaths"];
    if (reg.is_null()) {
      ++c.null_registry;
    } else {
      for (std::string_view p : simdjson::dom::array(reg))
        if (p.starts_with("HKEY_LOCAL_MACHINE\\SOFTWARE\\")) ++c.hklm;
    }
    const std::string_view first_seen = o["softwareFirstSeenTimestamp"];
    ASSERT_EQ(first_seen.size(), 19u) << first_seen;  // 2019-04-07 02:06:47
    ASSERT_EQ(first_seen[10], ' ');
    c.eos_statuses.insert(std::string(std::string_view(o["endOfSupportStatus"])));
    simdjson::dom::element eos = o["endOfSupportDate"];
    if (eos.is_null()) {
      ++c.null_eos_date;
    } else {
      const std::string_view d = eos;
      ASSERT_TRUE(d.ends_with("T00:00:00+00:00")) << d;
      ++c.eos_date;
    }
  }
  EXPECT_EQ(c.platforms, (std::set<std::string>{"Windows10", "Windows11", "WindowsServer2019", "WindowsServer2022",
                                                "Linux", "macOS"}));
  EXPECT_EQ(c.eos_statuses, (std::set<std::string>{"", "EOS Version", "Upcoming EOS Version", "EOS Software"}));
  EXPECT_GT(c.null_disk, 0u);
  EXPECT_GT(c.empty_disk, 0u);
  EXPECT_GT(c.backslash_paths, c.records / 4);
  EXPECT_GT(c.null_registry, 0u);
  EXPECT_GT(c.hklm, 0u);
  EXPECT_GT(c.null_eos_date, 0u);
  EXPECT_GT(c.eos_date, 0u);
  EXPECT_GT(c.unicode_groups, 0u);
  EXPECT_GT(c.long_names, 0u);
  const double mean = static_cast<double>(c.records) / static_cast<double>(c.per_device.size());
  EXPECT_GT(mean, 15.0);
  EXPECT_LT(mean, 25.0);
  // "Each record is approximately 0.5KB of data."
  const double bytes = static_cast<double>(json.size()) / static_cast<double>(c.records);
  EXPECT_GT(bytes, 350.0);
  EXPECT_LT(bytes, 800.0);
}

TEST(Generator, NonCpeRecordsCoverOddNamesAndTimestampShapes) {
  const TenantData t("tenant-a", small(7, 400), start);
  RecordWriter writer(t);
  std::string served = "[";
  for (std::size_t i = 0; i < t.noncpe().size(); ++i) {
    if (i) served += ',';
    writer.noncpe(served, t.noncpe()[i], GroupIdStyle::as_served);
  }
  served += ']';
  simdjson::dom::parser parser;
  simdjson::dom::array arr = parser.parse(served);
  std::size_t string_group = 0, seven = 0, three = 0, unicode = 0, tab = 0, quote = 0, backslash = 0, records = 0;
  for (simdjson::dom::object o : arr) {
    ++records;
    if (o["rbacGroupId"].is_string()) {
      ++string_group;
      const std::string_view g = o["rbacGroupId"];
      ASSERT_FALSE(g.empty());
    }
    const std::string_view ts = o["softwareLastSeenTimestamp"];
    if (ts.size() == 27) ++seven;  // 2020-11-03 10:13:34.8476880
    if (ts.size() == 23) ++three;  // 2021-01-30 11:31:12.271
    ASSERT_TRUE(ts.size() == 27 || ts.size() == 23) << ts;
    const std::string_view name = o["softwareName"];
    if (name.find("日本語") != std::string_view::npos || name.find("®") != std::string_view::npos) ++unicode;
    if (name.find('\t') != std::string_view::npos) ++tab;
    if (name.find('"') != std::string_view::npos) ++quote;
    if (name.find('\\') != std::string_view::npos) ++backslash;
  }
  EXPECT_GT(string_group, 0u);
  EXPECT_LT(string_group, records / 4);
  EXPECT_GT(seven, 0u);
  EXPECT_GT(three, 0u);
  EXPECT_GT(unicode, 0u);
  EXPECT_GT(tab, 0u);
  EXPECT_GT(quote, 0u);
  EXPECT_GT(backslash, 0u);
  // The truth never carries a string group id.
  simdjson::dom::array truth = parser.parse(truth_json(t, Dataset::noncpe));
  for (simdjson::dom::object o : truth) ASSERT_TRUE(o["rbacGroupId"].is_int64());
}

bool contains(const std::vector<RecordKey>& keys, const RecordKey& k) {
  return std::binary_search(keys.begin(), keys.end(), k);
}

TEST(Mutation, UninstallRemovesInstallAddsUpgradeReplacesVersion) {
  TenantData t("tenant-a", small(), start);
  const auto before_cpe = keys_of(t, Dataset::cpe);
  const auto before_non = keys_of(t, Dataset::noncpe);
  const SystemTime now = start + std::chrono::hours(1);
  MutationRequest m;
  m.installs = 20;
  m.uninstalls = 15;
  m.upgrades = 10;
  m.seed = 42;
  const MutationResult r = t.mutate(m, now);
  ASSERT_EQ(r.cpe.installed.size(), 20u);
  ASSERT_EQ(r.cpe.uninstalled.size(), 15u);
  ASSERT_EQ(r.cpe.upgraded.size(), 10u);
  ASSERT_EQ(r.noncpe.uninstalled.size(), 15u);
  ASSERT_GT(r.noncpe.installed.size(), 0u);
  EXPECT_EQ(t.data_version(), 1u);

  const auto after_cpe = keys_of(t, Dataset::cpe);
  for (std::size_t i = 1; i < after_cpe.size(); ++i) ASSERT_LT(after_cpe[i - 1], after_cpe[i]);
  EXPECT_EQ(after_cpe.size(), before_cpe.size() + 20 - 15);
  for (const auto& k : r.cpe.uninstalled) {
    EXPECT_TRUE(contains(before_cpe, k));
    EXPECT_FALSE(contains(after_cpe, k));
  }
  for (const auto& k : r.cpe.installed) {
    EXPECT_FALSE(contains(before_cpe, k));
    EXPECT_TRUE(contains(after_cpe, k));
  }
  for (const auto& [from, to] : r.cpe.upgraded) {
    EXPECT_EQ(from.device_id, to.device_id);
    EXPECT_EQ(from.vendor, to.vendor);
    EXPECT_EQ(from.name, to.name);
    EXPECT_NE(from.version, to.version);
    EXPECT_FALSE(contains(after_cpe, from));
    EXPECT_TRUE(contains(after_cpe, to));
  }
  for (const auto& k : r.noncpe.uninstalled) EXPECT_FALSE(contains(keys_of(t, Dataset::noncpe), k));
  EXPECT_EQ(keys_of(t, Dataset::noncpe).size(), before_non.size() + r.noncpe.installed.size() - 15);

  // Changed records carry the mutation time; the truth shows the new versions.
  std::size_t at_now = 0;
  for (const auto& rec : t.cpe()) at_now += rec.changed_at == now;
  EXPECT_EQ(at_now, 20u + 10u);
  const std::string truth = truth_json(t, Dataset::cpe);
  for (const auto& [from, to] : r.cpe.upgraded)
    EXPECT_NE(truth.find("\"softwareVersion\":\"" + to.version + "\""), std::string::npos);
}

TEST(Mutation, SameSeedMutatesTheSameWay) {
  TenantData a("tenant-a", small(), start), b("tenant-a", small(), start);
  MutationRequest m;
  m.installs = m.uninstalls = m.upgrades = m.reassess = 5;
  m.seed = 9;
  a.mutate(m, start);
  b.mutate(m, start);
  EXPECT_EQ(truth_json(a, Dataset::cpe), truth_json(b, Dataset::cpe));
  EXPECT_EQ(truth_json(a, Dataset::noncpe), truth_json(b, Dataset::noncpe));
}

TEST(Mutation, ReassessChangesWeaknessesInPlace) {
  TenantData t("tenant-a", small(), start);
  const auto before = truth_json(t, Dataset::cpe);
  const auto keys = keys_of(t, Dataset::cpe);
  MutationRequest m;
  m.reassess = 3;
  m.seed = 5;
  const auto r = t.mutate(m, start + std::chrono::minutes(5));
  EXPECT_EQ(r.cpe.reassessed.size(), 3u);
  EXPECT_EQ(keys_of(t, Dataset::cpe), keys);
  EXPECT_NE(truth_json(t, Dataset::cpe), before);
}

TEST(Mutation, NothingToDoLeavesDataVersion) {
  TenantData t("tenant-a", small(), start);
  t.mutate(MutationRequest{}, start);
  EXPECT_EQ(t.data_version(), 0u);
}

TEST(NextVersion, FollowsTheCatalogThenBumpsTheLastNumber) {
  const std::vector<std::string_view> versions = {"8.5.8", "8.6", "8.6.4"};
  EXPECT_EQ(next_version(versions, "8.5.8"), "8.6");
  EXPECT_EQ(next_version(versions, "8.6.4"), "8.6.5");
  EXPECT_EQ(next_version({}, "1.8.0_401"), "1.8.0_402");
  EXPECT_EQ(next_version({}, "115.6.0esr"), "115.6.1esr");
  EXPECT_EQ(next_version({}, "5.08.01.0009"), "5.08.01.0010");
  EXPECT_EQ(next_version({}, "beta"), "beta.1");
}

}  // namespace
}  // namespace mdesync::fakeapi
