// Phase 2: the export endpoints and the blob files they point at.
#include <gtest/gtest.h>
#include <simdjson.h>

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

}  // namespace
}  // namespace mdesync::fakeapi
