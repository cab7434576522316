// Keyset paging, $top and sinceTime over the generated data.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/timestamp.hpp"
#include "core/url.hpp"
#include "paging.hpp"
#include "test_util.hpp"

namespace mdesync::fakeapi {
namespace {

using model::Dataset;
using testing::key_from_json;
using testing::keys_of;

const SystemTime start = std::chrono::sys_days{std::chrono::year{2024} / 3 / 1};
constexpr std::string_view base = "http://127.0.0.1:8080";

GeneratorOptions opts(std::uint32_t devices = 200) {
  GeneratorOptions o;
  o.devices = devices;
  o.seed = 3;
  return o;
}

Params query(std::string_view q) { return *Params::parse(q); }

PageRequest request(std::string_view q, Dataset d = Dataset::cpe) {
  auto r = parse_page_request(query(q), d);
  EXPECT_TRUE(r.request) << r.error;
  return r.request.value_or(PageRequest{});
}

struct ParsedPage {
  std::vector<RecordKey> keys;
  std::string next_link;  // empty when absent
  std::string context;
};

ParsedPage parse(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object o = parser.parse(body);
  ParsedPage p;
  p.context = std::string(std::string_view(o["@odata.context"]));
  for (simdjson::dom::object r : simdjson::dom::array(o["value"])) p.keys.push_back(key_from_json(r));
  std::string_view link;
  if (o["@odata.nextLink"].get(link) == simdjson::SUCCESS) p.next_link = std::string(link);
  return p;
}

// Follows nextLinks from a first query; `between` runs after each page.
std::vector<RecordKey> walk(TenantData& t, Dataset d, std::string first_query, std::size_t max_page,
                            const std::function<void(int)>& between = {}) {
  std::vector<RecordKey> all;
  std::string q = std::move(first_query);
  for (int page = 0; page < 100000; ++page) {
    RecordWriter writer(t);
    const Page p = write_page(t, writer, d, request(q, d), base);
    const ParsedPage parsed = parse(p.body);
    EXPECT_LE(parsed.keys.size(), max_page);
    EXPECT_EQ(parsed.keys.size(), p.records);
    all.insert(all.end(), parsed.keys.begin(), parsed.keys.end());
    if (parsed.next_link.empty()) break;
    const std::string prefix = std::string(base) + std::string(model::spec(d).json_path) + "?";
    EXPECT_TRUE(parsed.next_link.starts_with(prefix)) << parsed.next_link;
    q = parsed.next_link.substr(prefix.size());
    if (between) between(page);
  }
  return all;
}

TEST(Paging, KeysetPagesCoverEveryRecordExactlyOnceInKeyOrder) {
  for (const auto d : model::all_datasets) {
    TenantData t("tenant", opts(), start);
    const auto all = walk(t, d, "pageSize=337", 337);
    EXPECT_EQ(all, keys_of(t, d));
  }
}

TEST(Paging, NoNextLinkWhenThePageEndsExactlyAtTheLastRecord) {
  TenantData t("tenant", opts(10), start);
  const std::size_t n = t.cpe().size();
  RecordWriter w(t);
  const Page p = write_page(t, w, Dataset::cpe, request("pageSize=" + std::to_string(n)), base);
  EXPECT_EQ(p.records, n);
  EXPECT_FALSE(p.has_more);
  EXPECT_TRUE(parse(p.body).next_link.empty());
}

TEST(Paging, PagesStayConsistentWhileTheTenantMutates) {
  TenantData t("tenant", opts(), start);
  const auto before = keys_of(t, Dataset::cpe);
  std::vector<RecordKey> touched;
  const auto served = walk(t, Dataset::cpe, "pagesize=500", 500, [&](int page) {
    MutationRequest m;
    m.installs = m.uninstalls = m.upgrades = 10;
    m.seed = static_cast<std::uint64_t>(page + 1);
    const auto r = t.mutate(m, start + std::chrono::minutes(page + 1));
    touched.insert(touched.end(), r.cpe.installed.begin(), r.cpe.installed.end());
    touched.insert(touched.end(), r.cpe.uninstalled.begin(), r.cpe.uninstalled.end());
    for (const auto& [a, b] : r.cpe.upgraded) {
      touched.push_back(a);
      touched.push_back(b);
    }
  });
  // Never a duplicate, always in order.
  for (std::size_t i = 1; i < served.size(); ++i) ASSERT_LT(served[i - 1], served[i]);
  // Every record that existed throughout the walk was served.
  std::sort(touched.begin(), touched.end());
  std::size_t stable = 0;
  for (const auto& k : before) {
    if (std::binary_search(touched.begin(), touched.end(), k)) continue;
    ++stable;
    ASSERT_TRUE(std::binary_search(served.begin(), served.end(), k));
  }
  EXPECT_GT(stable, before.size() / 2);
}

TEST(Paging, TopReturnsAtMostNAndNoNextLink) {
  TenantData t("tenant", opts(), start);
  RecordWriter w(t);
  const Page p = write_page(t, w, Dataset::noncpe, request("$top=25&pageSize=10", Dataset::noncpe), base);
  const auto parsed = parse(p.body);
  EXPECT_EQ(parsed.keys.size(), 25u);
  EXPECT_TRUE(parsed.next_link.empty());
  const auto all = keys_of(t, Dataset::noncpe);
  EXPECT_TRUE(std::equal(parsed.keys.begin(), parsed.keys.end(), all.begin()));
  const Page zero = write_page(t, w, Dataset::noncpe, request("$TOP=0", Dataset::noncpe), base);
  EXPECT_EQ(zero.records, 0u);
}

TEST(Paging, SinceTimeServesOnlyRecordsChangedAtOrAfterIt) {
  TenantData t("tenant", opts(), start);
  const SystemTime since = start - std::chrono::hours(24 * 10);
  std::vector<RecordKey> expected;
  for (const auto& r : t.cpe())
    if (r.changed_at >= since) expected.push_back(t.key_of(r));
  ASSERT_GT(expected.size(), 0u);
  ASSERT_LT(expected.size(), t.cpe().size());
  const std::string q = "sinceTime=" + percent_encode(format_iso8601_utc(since)) + "&pageSize=100";
  EXPECT_EQ(walk(t, Dataset::cpe, q, 100), expected);

  // After a mutation, a pull since the mutation time sees exactly what changed.
  const SystemTime now = start + std::chrono::hours(2);
  MutationRequest m;
  m.installs = 4;
  m.upgrades = 3;
  m.seed = 1;
  const auto r = t.mutate(m, now);
  std::vector<RecordKey> changed = r.cpe.installed;
  for (const auto& [from, to] : r.cpe.upgraded) changed.push_back(to);
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(walk(t, Dataset::cpe, "sinceTime=" + percent_encode(format_iso8601_utc(now)), 50000), changed);
}

TEST(Paging, SinceTimeAcceptsDateAndDateTimeForms) {
  EXPECT_TRUE(request("sinceTime=2021-05-19").since);
  EXPECT_TRUE(request("sinceTime=2021-05-19T18%3A35%3A49.924Z").since);
  EXPECT_TRUE(request("sincetime=2021-05-19T18:35:49Z").since);
  EXPECT_EQ(*request("sinceTime=2021-05-19").since, SystemTime(std::chrono::sys_days{std::chrono::year{2021} / 5 / 19}));
}

TEST(Paging, NextLinkCarriesPageSizeSinceTimeAndSkipToken) {
  TenantData t("tenant", opts(), start);
  RecordWriter w(t);
  const Page p = write_page(t, w, Dataset::cpe, request("PAGESIZE=5&SinceTime=2021-05-19"), base);
  const auto parsed = parse(p.body);
  ASSERT_EQ(parsed.keys.size(), 5u);
  EXPECT_EQ(parsed.context,
            "http://127.0.0.1:8080/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetSoftware)");
  EXPECT_TRUE(parsed.next_link.starts_with(
      "http://127.0.0.1:8080/api/machines/SoftwareInventoryByMachine?pagesize=5&sincetime=2021-05-19&$skiptoken="))
      << parsed.next_link;
  const auto token = parsed.next_link.substr(parsed.next_link.find("$skiptoken=") + 11);
  const auto key = decode_skiptoken(Dataset::cpe, token);
  ASSERT_TRUE(key);
  EXPECT_EQ(*key, parsed.keys.back());
  const Page np = write_page(t, w, Dataset::noncpe, request("", Dataset::noncpe), base);
  EXPECT_EQ(parse(np.body).context,
            "http://127.0.0.1:8080/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetNonCpeSoftware)");
}

TEST(Paging, NextLinkBaseOverrideChangesOnlyTheLink) {
  TenantData t("tenant", opts(), start);
  RecordWriter w(t);
  const Page p = write_page(t, w, Dataset::cpe, request("pageSize=5"), base, "https://elsewhere.example:9");
  const auto parsed = parse(p.body);
  EXPECT_TRUE(parsed.context.starts_with(std::string(base)));
  EXPECT_TRUE(parsed.next_link.starts_with("https://elsewhere.example:9/api/machines/SoftwareInventoryByMachine?"));
}

TEST(Paging, DefaultPageSizeIsFiftyThousand) {
  EXPECT_EQ(request("").page_size, 50'000u);
  EXPECT_EQ(request("pageSize=200000").page_size, 200'000u);
}

TEST(Paging, InvalidParametersAreRejected) {
  for (const char* q : {"pageSize=0", "pageSize=200001", "pageSize=abc", "pageSize=-1", "$top=200001", "$top=x",
                        "sinceTime=yesterday", "sinceTime=2021-13-01", "$skiptoken=garbage", "$skiptoken="}) {
    const auto r = parse_page_request(query(q), Dataset::cpe);
    EXPECT_FALSE(r.request) << q;
    EXPECT_FALSE(r.error.empty()) << q;
  }
}

TEST(Paging, SkipTokenIsBoundToItsDataSetAndDetectsTampering) {
  const RecordKey k{"00ff", "google", "chrome", "1.2"};
  const std::string token = encode_skiptoken(Dataset::cpe, k);
  EXPECT_EQ(decode_skiptoken(Dataset::cpe, token), k);
  EXPECT_FALSE(decode_skiptoken(Dataset::noncpe, token));
  std::string tampered = token;
  tampered[5] = tampered[5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(decode_skiptoken(Dataset::cpe, tampered));
}

TEST(Paging, SkipTokenForARemovedKeyContinuesAfterIt) {
  TenantData t("tenant", opts(), start);
  const auto keys = keys_of(t, Dataset::cpe);
  RecordKey gone = keys[10];
  gone.version += "-removed";  // sorts between keys[10] and keys[11], exists nowhere
  const std::size_t i = t.first_after(t.cpe(), gone);
  EXPECT_EQ(t.key_of(t.cpe()[i]), keys[11]);
}

}  // namespace
}  // namespace mdesync::fakeapi
