// Phase 2: the export endpoints and the blob files they point at.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "codec/gzip.hpp"
#include "service_harness.hpp"
#include "test_util.hpp"

namespace mdesync::fakeapi {
namespace {

using testing::base_config;
using testing::Harness;
using testing::target_of;

constexpr const char* cpe_export = "/api/machines/SoftwareInventoryExport";
constexpr const char* noncpe_export = "/api/machines/SoftwareInventoryNonCpeExport";

struct Export {
  std::vector<std::string> urls;
  std::string generated;
  std::string context;
};

Export parse_export(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200u) << r.body;
  simdjson::dom::parser p;
  simdjson::dom::object o = p.parse(r.body);
  Export e;
  for (std::string_view u : simdjson::dom::array(o["exportFiles"])) e.urls.emplace_back(u);
  e.generated = std::string(std::string_view(o["generatedTime"]));
  e.context = std::string(std::string_view(o["@odata.context"]));
  return e;
}

// Downloads every file and returns the NDJSON lines.
std::vector<std::string> download_lines(Harness& h, const Export& e, const std::string& eol = "\n") {
  std::vector<std::string> lines;
  for (const auto& url : e.urls) {
    const auto r = h.get(target_of(url));
    EXPECT_EQ(r.status, 200u) << r.body;
    EXPECT_EQ(r.header("Content-Encoding"), nullptr);
    const std::string text = testing::gunzip(r.body);
    std::size_t pos = 0;
    while (pos < text.size()) {
      const auto end = text.find(eol, pos);
      EXPECT_NE(end, std::string::npos) << "every line ends with the line end";
      if (end == std::string::npos) break;
      lines.push_back(text.substr(pos, end - pos));
      pos = end + eol.size();
    }
  }
  return lines;
}

std::vector<std::string> truth_records(Harness& h, const char* dataset) {
  simdjson::dom::parser p;
  simdjson::dom::array a = p.parse(h.get(std::string("/_admin/truth?tenant=tenant-a&dataset=") + dataset).body);
  std::vector<std::string> out;
  for (simdjson::dom::element e : a) out.push_back(simdjson::minify(e));
  return out;
}

TEST(Export, FilesHoldTheWholeDataSetAsGzipNdjson) {
  Harness h;
  const auto t = h.token();
  const Export e = parse_export(h.get(std::string(cpe_export) + "?sasValidHours=2", t));
  EXPECT_EQ(e.urls.size(), 3u);
  EXPECT_EQ(e.context, "http://127.0.0.1:8080/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse");
  for (const auto& u : e.urls) {
    EXPECT_TRUE(u.starts_with("http://127.0.0.1:8080/_blob/")) << u;
    EXPECT_NE(u.find(".json.gz?"), std::string::npos) << u;
    EXPECT_NE(u.find("&se="), std::string::npos);
    EXPECT_NE(u.find("&sig="), std::string::npos);
  }
  std::vector<std::string> lines;
  for (const auto& l : download_lines(h, e)) {
    simdjson::dom::parser p;
    lines.push_back(simdjson::minify(p.parse(l)));
  }
  EXPECT_EQ(lines, truth_records(h, "cpe"));
}

TEST(Export, NonCpeFilesAndCrlfLineEnds) {
  auto c = base_config();
  c.exports.crlf = true;
  c.exports.files = 2;
  Harness h(c);
  const Export e = parse_export(h.get(noncpe_export, h.token()));
  EXPECT_EQ(e.urls.size(), 2u);
  const auto lines = download_lines(h, e, "\r\n");
  EXPECT_EQ(lines.size(), truth_records(h, "noncpe").size());
}

TEST(Export, SameSnapshotUntilDataChangesOrRegenerate) {
  Harness h;
  const auto t = h.token();
  const Export a = parse_export(h.get(cpe_export, t));
  h.clock.advance(std::chrono::seconds(30));
  const Export b = parse_export(h.get(cpe_export, t));
  EXPECT_EQ(a.generated, b.generated);
  EXPECT_EQ(target_of(a.urls[0]).substr(0, target_of(a.urls[0]).find('?')),
            target_of(b.urls[0]).substr(0, target_of(b.urls[0]).find('?')));

  h.clock.advance(std::chrono::seconds(30));
  h.post("/_admin/mutate?tenant=tenant-a&installs=2&seed=1");
  const Export c = parse_export(h.get(cpe_export, t));
  EXPECT_NE(c.generated, b.generated);
  EXPECT_EQ(download_lines(h, c).size(), truth_records(h, "cpe").size());

  h.clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&dataset=cpe").status, 200u);
  const Export d = parse_export(h.get(cpe_export, t));
  EXPECT_NE(d.generated, c.generated);
  // The other data set was not asked to regenerate.
  h.clock.advance(std::chrono::seconds(30));
  const Export n1 = parse_export(h.get(noncpe_export, t));
  h.clock.advance(std::chrono::seconds(30));
  const Export n2 = parse_export(h.get(noncpe_export, t));
  EXPECT_EQ(n1.generated, n2.generated);
}

TEST(Export, CountsAgainstTheExportQuotaNotTheJsonOne) {
  Harness h;
  const auto t = h.token();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(h.get(cpe_export, t).status, 200u);
  const auto r = h.get(noncpe_export, t);
  EXPECT_EQ(r.status, 429u);
  EXPECT_NE(r.header("Retry-After"), nullptr);
  EXPECT_EQ(h.service->stats().violations(), 1u);
  EXPECT_EQ(h.get("/api/machines/SoftwareInventoryByMachine?$top=1", t).status, 200u);
}

TEST(Export, SasValidHoursIsOneToSix) {
  Harness h;
  const auto t = h.token();
  EXPECT_EQ(h.get(std::string(cpe_export) + "?sasValidHours=6", t).status, 200u);
  EXPECT_EQ(h.get(std::string(cpe_export) + "?sasValidHours=7", t).status, 400u);
  EXPECT_EQ(h.get(std::string(cpe_export) + "?sasValidHours=0", t).status, 400u);
  EXPECT_EQ(h.get(std::string(cpe_export) + "?sasValidHours=x", t).status, 400u);
  EXPECT_EQ(h.get(cpe_export).status, 401u);
}

bool is_auth_failed(const HttpResponse& r) {
  return r.status == 403 && r.body.find("<Error><Code>AuthenticationFailed</Code>") != std::string::npos &&
         r.header("Content-Type") && *r.header("Content-Type") == "application/xml";
}

TEST(Export, LinksExpireAfterSasValidHours) {
  Harness h;
  const Export e = parse_export(h.get(std::string(cpe_export) + "?sasValidHours=1", h.token()));
  const std::string target = target_of(e.urls[0]);
  h.clock.advance(std::chrono::minutes(59));
  EXPECT_EQ(h.get(target).status, 200u);
  h.clock.advance(std::chrono::minutes(1));
  const auto r = h.get(target);
  EXPECT_TRUE(is_auth_failed(r)) << r.status << " " << r.body;
  EXPECT_NE(r.body.find("<AuthenticationErrorDetail>Signed expiry time"), std::string::npos);
}

TEST(Export, AdminCanExpireIssuedLinks) {
  Harness h;
  const auto t = h.token();
  const Export e = parse_export(h.get(cpe_export, t));
  h.clock.advance(std::chrono::milliseconds(5));
  EXPECT_EQ(h.post("/_admin/expire-exports").status, 200u);
  EXPECT_TRUE(is_auth_failed(h.get(target_of(e.urls[0]))));
  h.clock.advance(std::chrono::milliseconds(5));
  const Export fresh = parse_export(h.get(cpe_export, t));
  EXPECT_EQ(h.get(target_of(fresh.urls[0])).status, 200u);
}

TEST(Export, TamperedSignatureOrPathIsRejected) {
  Harness h;
  const Export e = parse_export(h.get(cpe_export, h.token()));
  std::string target = target_of(e.urls[0]);
  std::string other = target;
  other.replace(other.find("part-00000"), 10, "part-00001");
  EXPECT_TRUE(is_auth_failed(h.get(other)));
  std::string bad_sig = target.substr(0, target.find("&sig=")) + "&sig=AAAA";
  EXPECT_TRUE(is_auth_failed(h.get(bad_sig)));
  EXPECT_TRUE(is_auth_failed(h.get(target.substr(0, target.find('?')))));
}

TEST(Export, RangeRequestsReturnPartialContent) {
  Harness h;
  const Export e = parse_export(h.get(cpe_export, h.token()));
  const std::string target = target_of(e.urls[0]);
  const std::string whole = h.get(target).body;
  ASSERT_GT(whole.size(), 200u);
  auto r = h.request("GET", target, {}, {}, {}, "bytes=100-199");
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(100, 100));
  EXPECT_EQ(*r.header("Content-Range"), "bytes 100-199/" + std::to_string(whole.size()));
  r = h.request("GET", target, {}, {}, {}, "bytes=150-");
  EXPECT_EQ(r.body, whole.substr(150));
  r = h.request("GET", target, {}, {}, {}, "bytes=-10");
  EXPECT_EQ(r.body, whole.substr(whole.size() - 10));
  r = h.request("GET", target, {}, {}, {}, "bytes=" + std::to_string(whole.size()) + "-");
  EXPECT_EQ(r.status, 416u);
}

TEST(Export, FileFaultsCutTheGzipStreamOrTheConnection) {
  {
    auto c = base_config();
    c.faults.rate_export_truncate = 1;
    Harness h(c);
    const Export e = parse_export(h.get(cpe_export, h.token()));
    const auto r = h.get(target_of(e.urls[0]));
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.action, WireAction::send);
    EXPECT_THROW(testing::gunzip(r.body), codec::GzipError);
    EXPECT_EQ(h.service->stats().fault_count("export_truncate"), 1u);
  }
  {
    auto c = base_config();
    c.faults.rate_export_reset = 1;
    Harness h(c);
    const Export e = parse_export(h.get(cpe_export, h.token()));
    const auto r = h.get(target_of(e.urls[0]));
    EXPECT_EQ(r.action, WireAction::truncate);
    EXPECT_LT(r.truncate_at, r.body.size());
  }
}

TEST(Export, OldSnapshotFilesEventuallyDisappear) {
  Harness h;
  const auto t = h.token();
  const Export first = parse_export(h.get(cpe_export, t));
  for (int i = 0; i < 3; ++i) {
    h.clock.advance(std::chrono::seconds(61));
    h.post("/_admin/regenerate?tenant=tenant-a");
    parse_export(h.get(cpe_export, t));
  }
  const auto r = h.get(target_of(first.urls[0]));
  EXPECT_EQ(r.status, 404u);
  EXPECT_NE(r.body.find("<Code>BlobNotFound</Code>"), std::string::npos);
}

TEST(Export, EmptyFaultAnswers200WithNoBodyForExactlyFaultCountRequests) {
  Harness h;
  const Export e = parse_export(h.get(cpe_export, h.token()));
  const std::string target = target_of(e.urls[0]);
  const std::string whole = h.get(target).body;
  ASSERT_GT(whole.size(), 100u);

  const auto set = h.post("/_admin/faults?fault-export-empty-rate=1&fault-count=3");
  ASSERT_EQ(set.status, 200u) << set.body;
  EXPECT_NE(set.body.find("\"fault-export-empty-rate\":1"), std::string::npos) << set.body;
  for (int i = 0; i < 3; ++i) {
    // A Range request gets the same empty 200: nothing hints at a partial answer.
    const auto r = i == 1 ? h.request("GET", target, {}, {}, {}, "bytes=0-99") : h.get(target);
    EXPECT_EQ(r.status, 200u) << i;
    EXPECT_TRUE(r.body.empty()) << i << ": not even a gzip header";
    EXPECT_EQ(r.action, WireAction::send);
    EXPECT_EQ(r.header("Content-Range"), nullptr);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.get(target).body, whole) << "normal service after fault-count faults";
  EXPECT_EQ(h.service->stats().fault_count("export_empty"), 3u);
  EXPECT_NE(h.get("/_admin/stats").body.find("\"export_empty\":3"), std::string::npos);
}

TEST(Export, EmptyFaultObeysStartAfterAndTheSeed) {
  Harness h;
  const Export e = parse_export(h.get(cpe_export, h.token()));
  const std::string target = target_of(e.urls[0]);
  ASSERT_EQ(h.post("/_admin/faults?fault-export-empty-rate=1&fault-start-after=2").status, 200u);
  EXPECT_FALSE(h.get(target).body.empty());
  EXPECT_FALSE(h.get(target).body.empty());
  EXPECT_TRUE(h.get(target).body.empty());
  EXPECT_TRUE(h.get(target).body.empty());

  // A rate below 1: the same seed gives the same sequence of empty answers.
  const auto sequence = [&](const char* seed) {
    EXPECT_EQ(h.post(std::string("/_admin/faults?fault-start-after=0&fault-export-empty-rate=0.5&fault-seed=") + seed)
                  .status,
              200u);
    std::string empties;
    for (int i = 0; i < 24; ++i) empties += h.get(target).body.empty() ? 'E' : '.';
    return empties;
  };
  const std::string a = sequence("7");
  EXPECT_NE(a.find('E'), std::string::npos);
  EXPECT_NE(a.find('.'), std::string::npos);
  EXPECT_NE(sequence("8"), a);
  // A changed seed restarts the sequence: seed 7 again gives the same answers again.
  EXPECT_EQ(sequence("7"), a);
}

// An rbac-layout file URL: .../_blob/tvm-export/<export>/<date>/OrgId=<tenant>/_RbacGroupId=<n>/part-<5 digits>-<uuid>.c00N.json.gz?<SAS>
const std::regex rbac_url(
    R"(http://127\.0\.0\.1:8080/_blob/tvm-export/SoftwareInventoryExport/\d{4}-\d{2}-\d{2}/OrgId=tenant-a/)"
    R"(_RbacGroupId=(\d+)/(part-(\d{5})-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(c\d{3})\.json\.gz)"
    R"(\?sv=[^&]+&st=[^&]+&se=[^&]+&sr=b&sp=r&sig=[^&]+)");

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> minified(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    simdjson::dom::parser p;
    out.push_back(simdjson::minify(p.parse(l)));
  }
  return out;
}

ServiceConfig rbac_config() {
  auto c = base_config();
  c.exports.layout = ExportLayout::rbac;
  c.quotas.export_per_minute = 100;
  c.quotas.export_per_hour = 1000;
  return c;
}

TEST(Export, RbacLayoutNamesFilesLikeTheRealServicesSparkOutput) {
  Harness h(rbac_config());
  const Export e = parse_export(h.get(cpe_export, h.token()));
  std::map<std::string, std::set<std::string>> groups_by_base_name;  // part-NNNNN-<uuid> -> groups
  std::map<std::string, std::set<std::string>> spills;               // group/part -> {c000, c001}
  std::set<std::string> groups;
  std::set<int> parts;
  for (const auto& u : e.urls) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(u, m, rbac_url)) << u;
    groups.insert(m[1]);
    groups_by_base_name[m[2].str() + "." + m[4].str()].insert(m[1]);
    spills[m[1].str() + "/" + m[2].str()].insert(m[4]);
    parts.insert(std::stoi(m[3]));
  }
  EXPECT_GE(groups.size(), 2u);
  EXPECT_TRUE(std::any_of(groups_by_base_name.begin(), groups_by_base_name.end(),
                          [](const auto& g) { return g.second.size() >= 2; }))
      << "one file name under two groups";
  EXPECT_TRUE(std::any_of(spills.begin(), spills.end(), [](const auto& s) {
    return s.second == std::set<std::string>{"c000", "c001"};
  })) << "a part with a c000 and a c001 file";
  ASSERT_EQ(parts.size(), 3u) << "one part number per task (--export-files)";
  EXPECT_NE(*parts.begin(), 0);
  for (auto it = std::next(parts.begin()); it != parts.end(); ++it) EXPECT_GT(*it - *std::prev(it), 1) << "gaps";

  // Every file downloads, and together they hold exactly the truth.
  EXPECT_EQ(sorted(minified(download_lines(h, e))), sorted(truth_records(h, "cpe")));
  // Range works on these names too.
  const std::string target = target_of(e.urls.back());
  const std::string whole = h.get(target).body;
  const auto r = h.request("GET", target, {}, {}, {}, "bytes=10-");
  EXPECT_EQ(r.status, 206u);
  EXPECT_EQ(r.body, whole.substr(10));
}

TEST(Export, RbacLayoutNonCpeFilesHoldTheTruthsKeys) {
  Harness h(rbac_config());
  const Export e = parse_export(h.get(noncpe_export, h.token()));
  ASSERT_FALSE(e.urls.empty());
  EXPECT_NE(e.urls[0].find("/_blob/tvm-export/SoftwareInventoryNonCpeExport/"), std::string::npos) << e.urls[0];
  // rbacGroupId may be served as a string: compare the keys.
  std::vector<RecordKey> served, truth;
  for (const auto& l : download_lines(h, e)) {
    simdjson::dom::parser p;
    served.push_back(testing::key_from_json(p.parse(l)));
  }
  simdjson::dom::parser p;
  for (simdjson::dom::object o : simdjson::dom::array(p.parse(h.get("/_admin/truth?tenant=tenant-a&dataset=noncpe").body)))
    truth.push_back(testing::key_from_json(o));
  std::sort(served.begin(), served.end());
  std::sort(truth.begin(), truth.end());
  EXPECT_EQ(served, truth);
}

TEST(Export, LayoutChangesAtRunTimeWithANewSnapshot) {
  auto c = rbac_config();
  c.exports.layout = ExportLayout::flat;
  Harness h(c);
  const auto t = h.token();
  EXPECT_EQ(h.get("/_admin/export-layout").body, R"({"layout":"flat"})");
  const Export flat = parse_export(h.get(cpe_export, t));
  EXPECT_NE(flat.urls[0].find("/_blob/tvm-export/SoftwareInventory-tenant-a-"), std::string::npos) << flat.urls[0];

  const auto set = h.post("/_admin/export-layout?layout=rbac");
  EXPECT_EQ(set.status, 200u);
  EXPECT_EQ(set.body, R"({"layout":"rbac"})");
  EXPECT_EQ(h.post("/_admin/export-layout?layout=tree").status, 400u);
  EXPECT_EQ(h.post("/_admin/export-layout").status, 400u);
  EXPECT_EQ(h.request("PUT", "/_admin/export-layout?layout=rbac").status, 405u);

  const Export rbac = parse_export(h.get(cpe_export, t));
  EXPECT_GT(rbac.generated, flat.generated);
  for (const auto& u : rbac.urls) EXPECT_TRUE(std::regex_match(u, rbac_url)) << u;
  EXPECT_EQ(sorted(minified(download_lines(h, rbac))), sorted(truth_records(h, "cpe")));
  // The flat files of the snapshot before stay downloadable for a while.
  EXPECT_EQ(h.get(target_of(flat.urls[0])).status, 200u);
}

TEST(Export, RbacUrlsExpireAndFailLikeFlatOnes) {
  Harness h(rbac_config());
  const auto t = h.token();
  const Export e = parse_export(h.get(cpe_export, t));
  std::string target = target_of(e.urls[0]);
  // The signature covers the whole path: another group's directory is refused.
  std::string other = target;
  const auto group = other.find("_RbacGroupId=");
  other.replace(group, other.find('/', group) - group, "_RbacGroupId=999");
  EXPECT_TRUE(is_auth_failed(h.get(other)));

  ASSERT_EQ(h.post("/_admin/faults?fault-sas-expired-rate=1&fault-count=1").status, 200u);
  EXPECT_TRUE(is_auth_failed(h.get(target)));
  EXPECT_EQ(h.get(target).status, 200u);

  h.clock.advance(std::chrono::milliseconds(5));
  EXPECT_EQ(h.post("/_admin/expire-exports").status, 200u);
  EXPECT_TRUE(is_auth_failed(h.get(target)));
  h.clock.advance(std::chrono::milliseconds(5));
  const Export fresh = parse_export(h.get(cpe_export, t));
  EXPECT_EQ(fresh.generated, e.generated) << "expiring links does not rebuild the snapshot";
  EXPECT_EQ(h.get(target_of(fresh.urls[0])).status, 200u);
}

TEST(Export, RbacLayoutInjectedPagesAreExtraFiles) {
  Harness h(rbac_config());
  const auto t = h.token();
  const auto inj = h.post("/_admin/inject?tenant=tenant-a&dataset=cpe",
                          "{\"deviceId\":\"injected-device\"}\n#page zero-bytes\n");
  ASSERT_EQ(inj.status, 200u) << inj.body;
  const Export e = parse_export(h.get(cpe_export, t));
  std::vector<std::string> generated;
  std::vector<std::string> injected;
  for (const auto& u : e.urls) (std::regex_match(u, rbac_url) ? generated : injected).push_back(u);
  ASSERT_EQ(injected.size(), 2u);
  EXPECT_NE(injected[0].find("/OrgId=tenant-a/injected-00000.json.gz?"), std::string::npos) << injected[0];
  EXPECT_NE(injected[1].find("/OrgId=tenant-a/injected-00001.json.gz?"), std::string::npos) << injected[1];
  EXPECT_EQ(testing::gunzip(h.get(target_of(injected[0])).body), "{\"deviceId\":\"injected-device\"}\n");
  EXPECT_EQ(h.get(target_of(injected[1])).body, "");
  Export only_generated = e;
  only_generated.urls = generated;
  EXPECT_EQ(sorted(minified(download_lines(h, only_generated))), sorted(truth_records(h, "cpe")));
}

TEST(Export, RegenerationCanLandOnALaterExportRequest) {
  Harness h(rbac_config());
  const auto t = h.token();
  const Export s0 = parse_export(h.get(cpe_export, t));
  h.clock.advance(std::chrono::seconds(2));
  const auto r = h.post("/_admin/regenerate?tenant=tenant-a&dataset=cpe&on_export=2");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"regenerate":true,"on_export":2,"repeat":1})");

  // The client's first export request still gets the current snapshot ...
  const Export s1 = parse_export(h.get(cpe_export, t));
  EXPECT_EQ(s1.generated, s0.generated);
  EXPECT_EQ(target_of(s1.urls[0]).substr(0, target_of(s1.urls[0]).find('?')),
            target_of(s0.urls[0]).substr(0, target_of(s0.urls[0]).find('?')));
  EXPECT_EQ(h.get(target_of(s1.urls[0])).status, 200u);
  // ... a file is refused as expired, the client asks again, and lands on a new snapshot.
  ASSERT_EQ(h.post("/_admin/faults?fault-sas-expired-rate=1&fault-count=1").status, 200u);
  EXPECT_TRUE(is_auth_failed(h.get(target_of(s1.urls[1]))));
  const Export s2 = parse_export(h.get(cpe_export, t));
  EXPECT_GT(s2.generated, s1.generated);
  EXPECT_NE(target_of(s2.urls[0]).substr(0, target_of(s2.urls[0]).find('?')),
            target_of(s1.urls[0]).substr(0, target_of(s1.urls[0]).find('?')));
  EXPECT_EQ(sorted(minified(download_lines(h, s2))), sorted(truth_records(h, "cpe")));
  // Then no more regenerations.
  EXPECT_EQ(parse_export(h.get(cpe_export, t)).generated, s2.generated);
  // The other data set was not asked to regenerate.
  const Export n1 = parse_export(h.get(noncpe_export, t));
  EXPECT_EQ(parse_export(h.get(noncpe_export, t)).generated, n1.generated);
}

TEST(Export, RegenerationRepeatKeepsTheSnapshotChanging) {
  Harness h(rbac_config());
  const auto t = h.token();
  const std::string g0 = parse_export(h.get(cpe_export, t)).generated;
  ASSERT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&repeat=3").status, 200u);
  // All within the same second: generatedTime still moves forward with each new snapshot.
  std::vector<std::string> g;
  for (int i = 0; i < 4; ++i) g.push_back(parse_export(h.get(cpe_export, t)).generated);
  EXPECT_GT(g[0], g0);
  EXPECT_GT(g[1], g[0]);
  EXPECT_GT(g[2], g[1]);
  EXPECT_EQ(g[3], g[2]) << "three regenerations, then the snapshot stays";

  // on_export and repeat together: one more answer from the current snapshot, then two new ones.
  ASSERT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&dataset=cpe&on_export=2&repeat=2").status, 200u);
  std::vector<std::string> k;
  for (int i = 0; i < 4; ++i) k.push_back(parse_export(h.get(cpe_export, t)).generated);
  EXPECT_EQ(k[0], g[3]);
  EXPECT_GT(k[1], k[0]);
  EXPECT_GT(k[2], k[1]);
  EXPECT_EQ(k[3], k[2]);

  // A later call replaces what an earlier one scheduled.
  ASSERT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&dataset=cpe&on_export=5").status, 200u);
  ASSERT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&dataset=cpe").status, 200u);
  const std::string m0 = parse_export(h.get(cpe_export, t)).generated;
  EXPECT_GT(m0, k[3]);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(parse_export(h.get(cpe_export, t)).generated, m0);

  EXPECT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&on_export=0").status, 400u);
  EXPECT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&repeat=0").status, 400u);
  EXPECT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&repeat=x").status, 400u);
  EXPECT_EQ(h.post("/_admin/regenerate?tenant=tenant-a&dataset=bogus").status, 400u);
}

}  // namespace
}  // namespace mdesync::fakeapi
