// The service end to end through handle(): tokens, data endpoints, quotas, faults, admin.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "core/timestamp.hpp"
#include "core/url.hpp"
#include "service_harness.hpp"
#include "test_util.hpp"

namespace mdesync::fakeapi {
namespace {

using testing::base_config;
using testing::Harness;
using testing::target_of;

constexpr const char* cpe_path = "/api/machines/SoftwareInventoryByMachine";
constexpr const char* noncpe_path = "/api/machines/SoftwareInventoryNoProductCodeByMachine";

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& body) {
  simdjson::dom::element e;
  EXPECT_EQ(p.parse(body).get(e), simdjson::SUCCESS) << body.substr(0, 300);
  return e;
}

// AAD error shape: error, error_description "AADSTS<code>: ...", error_codes [code], ids.
void expect_aad_error(const HttpResponse& r, unsigned status, std::string_view error, std::int64_t code) {
  EXPECT_EQ(r.status, status) << r.body;
  simdjson::dom::parser p;
  auto e = parse(p, r.body);
  EXPECT_EQ(std::string_view(e["error"]), error);
  EXPECT_TRUE(std::string_view(e["error_description"]).starts_with("AADSTS" + std::to_string(code) + ": "));
  EXPECT_EQ(std::int64_t(e["error_codes"].at(0)), code);
  EXPECT_EQ(std::string_view(e["trace_id"]).size(), 36u);
  EXPECT_EQ(std::string_view(e["correlation_id"]).size(), 36u);
  EXPECT_FALSE(std::string_view(e["timestamp"]).empty());
}

void expect_api_error(const HttpResponse& r, unsigned status, std::string_view code) {
  EXPECT_EQ(r.status, status) << r.body;
  simdjson::dom::parser p;
  auto e = parse(p, r.body);
  EXPECT_EQ(std::string_view(e["error"]["code"]), code);
  EXPECT_FALSE(std::string_view(e["error"]["message"]).empty());
  EXPECT_EQ(std::string_view(e["error"]["target"]).size(), 36u);
}

TEST(TokenEndpoint, IssuesABearerTokenForTheRightSecret) {
  Harness h;
  const auto r = h.post("/tenant-a/oauth2/v2.0/token", Harness::token_form("&client_secret=s3cret"));
  ASSERT_EQ(r.status, 200u);
  simdjson::dom::parser p;
  auto e = parse(p, r.body);
  EXPECT_EQ(std::string_view(e["token_type"]), "Bearer");
  EXPECT_EQ(std::int64_t(e["expires_in"]), 3599);
  EXPECT_EQ(std::int64_t(e["ext_expires_in"]), 3599);
  EXPECT_GE(std::string_view(e["access_token"]).size(), 40u);
  EXPECT_NE(r.header("Date"), nullptr);
  EXPECT_EQ(h.service->stats().to_json().find("\"tokens_issued\":1") != std::string::npos, true);
}

TEST(TokenEndpoint, FailsTheWayAzureAdDoes) {
  Harness h;
  const std::string url = "/tenant-a/oauth2/v2.0/token";
  expect_aad_error(h.post("/nobody/oauth2/v2.0/token", Harness::token_form("&client_secret=s3cret")), 400,
                   "invalid_request", 90002);
  expect_aad_error(h.post(url, "grant_type=client_credentials&client_id=other&scope=x&client_secret=s3cret"), 400,
                   "unauthorized_client", 700016);
  expect_aad_error(h.post(url, Harness::token_form("&client_secret=wrong")), 401, "invalid_client", 7000215);
  expect_aad_error(h.post(url, "grant_type=password&client_id=client-1"), 400, "unsupported_grant_type", 70003);
  expect_aad_error(h.post(url, "client_id=client-1"), 400, "invalid_request", 900144);
  expect_aad_error(h.post(url, Harness::token_form()), 400, "invalid_request", 900144);
  expect_aad_error(h.post(url, "grant_type=client_credentials&client_id=client-1&client_secret=s3cret"), 400,
                   "invalid_request", 900144);
  expect_aad_error(
      h.post(url, "grant_type=client_credentials&client_id=client-1&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
                  "&client_secret=s3cret"),
      400, "invalid_scope", 70011);
  expect_aad_error(h.get(url), 400, "invalid_request", 900561);
}

struct AssertionHarness : ::testing::Test {
  static inline KeyAndCertificate kc;
  static void SetUpTestSuite() {
    SelfSignedOptions o;
    o.key = KeyKind::rsa2048;
    kc = make_self_signed(o);
  }
  std::string assertion(const std::string& aud, const FakeClock& clock) {
    const auto c = Certificate::from_pem(kc.certificate_pem);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now_utc().time_since_epoch()).count();
    return testing::sign_jwt(R"({"alg":"RS256","typ":"JWT","x5t":")" + c.x5t() + "\"}",
                             R"({"aud":")" + aud + R"(","iss":"client-1","sub":"client-1","jti":"j1","nbf":)" +
                                 std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + "}",
                             kc.private_key_pem, "RS256");
  }
  ServiceConfig config() {
    auto c = base_config();
    c.client_secrets.clear();
    c.client_certificate = Certificate::from_pem(kc.certificate_pem);
    return c;
  }
};

TEST_F(AssertionHarness, AcceptsAnAssertionForTheTokenUrlTheClientUsed) {
  Harness h(config());
  const std::string form = Harness::token_form(
      "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=");
  const auto ok = h.post("/tenant-a/oauth2/v2.0/token",
                         form + assertion("http://127.0.0.1:8080/tenant-a/oauth2/v2.0/token", h.clock));
  EXPECT_EQ(ok.status, 200u) << ok.body;
  expect_aad_error(h.post("/tenant-a/oauth2/v2.0/token",
                          form + assertion("http://localhost:8080/tenant-a/oauth2/v2.0/token", h.clock)),
                   401, "invalid_client", 700027);
  expect_aad_error(h.post("/tenant-a/oauth2/v2.0/token",
                          form + assertion("http://127.0.0.1:8080/tenant-b/oauth2/v2.0/token", h.clock)),
                   401, "invalid_client", 700027);
  expect_aad_error(h.post("/tenant-a/oauth2/v2.0/token", Harness::token_form("&client_secret=s3cret")), 401,
                   "invalid_client", 7000215);
}

TEST(DataEndpoints, RequireAValidBearerToken) {
  Harness h;
  auto r = h.get(cpe_path);
  expect_api_error(r, 401, "Unauthorized");
  ASSERT_NE(r.header("WWW-Authenticate"), nullptr);
  EXPECT_TRUE(r.header("WWW-Authenticate")->starts_with("Bearer"));
  r = h.get(cpe_path, "made-up");
  expect_api_error(r, 401, "Unauthorized");
  EXPECT_TRUE(r.header("WWW-Authenticate")->starts_with("Bearer"));

  const std::string token = h.token();
  EXPECT_EQ(h.get(cpe_path, token).status, 200u);
  h.clock.advance(std::chrono::seconds(3598));
  EXPECT_EQ(h.get(cpe_path, token).status, 200u);
  h.clock.advance(std::chrono::seconds(1));
  expect_api_error(h.get(cpe_path, token), 401, "Unauthorized");

  const std::string fresh = h.token();
  EXPECT_EQ(h.get(noncpe_path, fresh).status, 200u);
  EXPECT_EQ(h.post("/_admin/expire-tokens").status, 200u);
  expect_api_error(h.get(noncpe_path, fresh), 401, "Unauthorized");
  EXPECT_NE(h.service->stats().to_json().find("\"unauthorized\":4"), std::string::npos)
      << h.service->stats().to_json();
}

TEST(DataEndpoints, TokensAreBoundToTheirTenant) {
  Harness h;
  const auto a = h.get(std::string(cpe_path) + "?$top=3", h.token("tenant-a"));
  const auto b = h.get(std::string(cpe_path) + "?$top=3", h.token("tenant-b"));
  ASSERT_EQ(a.status, 200u);
  ASSERT_EQ(b.status, 200u);
  EXPECT_NE(a.body, b.body);
  const auto truth = h.get("/_admin/truth?tenant=tenant-a&dataset=cpe");
  simdjson::dom::parser p1, p2;
  auto page = parse(p1, a.body);
  auto all = parse(p2, truth.body);
  EXPECT_EQ(std::string_view(page["value"].at(0)["deviceId"]), std::string_view(all.at(0)["deviceId"]));
}

TEST(DataEndpoints, NoPermissionIsForbidden) {
  auto c = base_config();
  c.no_permission = true;
  Harness h(c);
  expect_api_error(h.get(cpe_path, h.token()), 403, "Forbidden");
}

TEST(DataEndpoints, BadParametersAre400WithAnErrorBody) {
  Harness h;
  const auto t = h.token();
  expect_api_error(h.get(std::string(cpe_path) + "?pageSize=200001", t), 400, "BadRequest");
  expect_api_error(h.get(std::string(cpe_path) + "?sinceTime=soon", t), 400, "BadRequest");
  expect_api_error(h.get(std::string(cpe_path) + "?$skiptoken=zzz", t), 400, "BadRequest");
  expect_api_error(h.get("/api/machines/Nope", t), 404, "NotFound");
  EXPECT_EQ(h.request("POST", cpe_path, {}, t).status, 405u);
}

// Follows nextLinks through handle() and returns every record served, parsed.
std::vector<std::string> walk(Harness& h, const std::string& first, const std::string& token, int* pages = nullptr) {
  std::vector<std::string> records;
  std::string target = first;
  int n = 0;
  while (true) {
    const auto r = h.get(target, token);
    EXPECT_EQ(r.status, 200u) << r.body;
    if (r.status != 200) break;
    ++n;
    simdjson::dom::parser p;
    auto e = parse(p, r.body);
    for (simdjson::dom::element rec : simdjson::dom::array(e["value"])) records.push_back(simdjson::minify(rec));
    std::string_view next;
    if (e["@odata.nextLink"].get(next) != simdjson::SUCCESS) break;
    target = target_of(next);
  }
  if (pages) *pages = n;
  return records;
}

TEST(DataEndpoints, PagedWalkServesExactlyTheTruth) {
  Harness h;
  const std::string token = h.token();
  int pages = 0;
  const auto served = walk(h, std::string(cpe_path) + "?pageSize=100", token, &pages);
  EXPECT_GT(pages, 3);
  simdjson::dom::parser p;
  auto truth = parse(p, h.get("/_admin/truth?tenant=tenant-a&dataset=cpe").body);
  std::vector<std::string> expected;
  for (simdjson::dom::element rec : simdjson::dom::array(truth)) expected.push_back(simdjson::minify(rec));
  EXPECT_EQ(served, expected);
}

TEST(DataEndpoints, NonCpeWalkMatchesTruthUpToGroupIdSpelling) {
  Harness h;
  const std::string token = h.token();
  const auto served = walk(h, std::string(noncpe_path) + "?pagesize=50", token);
  simdjson::dom::parser p;
  auto truth = parse(p, h.get("/_admin/truth?tenant=tenant-a&dataset=noncpe").body);
  std::size_t i = 0, strings = 0;
  for (simdjson::dom::object rec : simdjson::dom::array(truth)) {
    ASSERT_LT(i, served.size());
    simdjson::dom::parser q;
    simdjson::dom::object s = parse(q, served[i++]);
    EXPECT_EQ(testing::key_from_json(s), testing::key_from_json(rec));
    const std::int64_t id = rec["rbacGroupId"];
    if (s["rbacGroupId"].is_string()) {
      ++strings;
      EXPECT_EQ(std::string_view(s["rbacGroupId"]), std::to_string(id));
    } else {
      EXPECT_EQ(std::int64_t(s["rbacGroupId"]), id);
    }
  }
  EXPECT_EQ(i, served.size());
  EXPECT_GT(strings, 0u);
}

TEST(DataEndpoints, PathsAndParameterNamesAreCaseInsensitive) {
  Harness h;
  const auto t = h.token();
  const auto r = h.get("/API/Machines/softwareinventorybymachine?PageSize=2", t);
  ASSERT_EQ(r.status, 200u);
  simdjson::dom::parser p;
  EXPECT_EQ(simdjson::dom::array(parse(p, r.body)["value"]).size(), 2u);
}

TEST(Quota, ThirtyPerMinutePerTenantThen429WithRetryAfter) {
  Harness h;
  const auto a = h.token("tenant-a"), b = h.token("tenant-b");
  for (int i = 0; i < 30; ++i) ASSERT_EQ(h.get(std::string(cpe_path) + "?$top=1", a).status, 200u) << i;
  auto r = h.get(std::string(noncpe_path) + "?$top=1", a);  // same family, same quota
  expect_api_error(r, 429, "TooManyRequests");
  ASSERT_NE(r.header("Retry-After"), nullptr);
  EXPECT_EQ(*r.header("Retry-After"), "60");
  EXPECT_EQ(h.service->stats().violations(), 1u);
  EXPECT_EQ(h.get(std::string(cpe_path) + "?$top=1", b).status, 200u) << "tenant-b has its own quota";
  // Coming back early is an early retry and another violation.
  h.clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(h.get(cpe_path, a).status, 429u);
  EXPECT_EQ(h.service->stats().early_retries(), 1u);
  EXPECT_EQ(h.service->stats().violations(), 2u);
  h.clock.advance(std::chrono::seconds(30));
  EXPECT_EQ(h.get(std::string(cpe_path) + "?$top=1", a).status, 200u);
  EXPECT_EQ(h.service->stats().early_retries(), 1u);
  EXPECT_EQ(h.service->stats().throttled_count(), 2u);
}

TEST(Quota, LimitsComeFromTheConfiguration) {
  auto c = base_config();
  c.quotas.json_per_minute = 3;
  Harness h(c);
  const auto t = h.token();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.get(cpe_path, t).status, 200u);
  EXPECT_EQ(h.get(cpe_path, t).status, 429u);
}

Harness with_faults(const std::string& name, const std::string& value) {
  auto c = base_config();
  EXPECT_EQ(set_fault_option(c.faults, name, value), "");
  return Harness(c);
}

TEST(Faults, EachKindDoesWhatItSays) {
  {
    Harness h = with_faults("fault-reset-rate", "1");
    EXPECT_EQ(h.get(cpe_path, h.token()).action, WireAction::reset);
    EXPECT_EQ(h.service->stats().fault_count("reset"), 1u);
  }
  {
    Harness h = with_faults("fault-truncate-rate", "1");
    const auto r = h.get(cpe_path, h.token());
    EXPECT_EQ(r.status, 200u);
    EXPECT_EQ(r.action, WireAction::truncate);
    EXPECT_LT(r.truncate_at, r.body.size());
  }
  {
    Harness h = with_faults("fault-5xx-rate", "1");
    const auto t = h.token();
    std::set<unsigned> seen;
    for (int i = 0; i < 20; ++i) {
      const auto r = h.get(cpe_path, t);
      seen.insert(r.status);
      simdjson::dom::parser p;
      EXPECT_FALSE(std::string_view(parse(p, r.body)["error"]["code"]).empty());
    }
    EXPECT_EQ(seen, (std::set<unsigned>{500, 503}));
  }
  {
    Harness h = with_faults("fault-malformed-rate", "1");
    const auto r = h.get(cpe_path, h.token());
    EXPECT_EQ(r.status, 200u);
    simdjson::dom::parser p;
    simdjson::dom::element e;
    EXPECT_NE(p.parse(r.body).get(e), simdjson::SUCCESS);
  }
  {
    Harness h = with_faults("fault-slow-rate", "1");
    EXPECT_EQ(h.get(cpe_path, h.token()).delay, std::chrono::milliseconds(2000));
  }
}

TEST(Faults, Injected429sAreNotViolationsButEarlyRetriesCount) {
  auto c = base_config();
  set_fault_option(c.faults, "fault-429-rate", "1");
  set_fault_option(c.faults, "fault-retry-after", "2");
  Harness h(c);
  const auto t = h.token();
  auto r = h.get(cpe_path, t);
  EXPECT_EQ(r.status, 429u);
  EXPECT_EQ(*r.header("Retry-After"), "2");
  EXPECT_EQ(h.service->stats().violations(), 0u);
  EXPECT_EQ(h.service->stats().throttled_count(), 1u);
  h.clock.advance(std::chrono::seconds(1));
  h.get(cpe_path, t);
  EXPECT_EQ(h.service->stats().early_retries(), 1u);
  h.clock.advance(std::chrono::seconds(2));
  h.get(cpe_path, t);
  EXPECT_EQ(h.service->stats().early_retries(), 1u);
}

TEST(Faults, TokenExpiresAfterNPages) {
  Harness h = with_faults("token-expire-after-pages", "2");
  const auto t = h.token();
  EXPECT_EQ(h.get(cpe_path, t).status, 200u);
  EXPECT_EQ(h.get(cpe_path, t).status, 200u);
  const auto r = h.get(cpe_path, t);
  expect_api_error(r, 401, "Unauthorized");
  EXPECT_EQ(h.service->stats().fault_count("token_expired"), 1u);
  EXPECT_EQ(h.get(cpe_path, h.token()).status, 200u) << "a new token works again";
}

TEST(Faults, AreDeterministicForASeedAndNeverTouchData) {
  const auto run = [](std::uint64_t seed) {
    auto c = base_config();
    c.faults.rate_5xx = 0.3;
    c.faults.rate_reset = 0.2;
    c.faults.seed = seed;
    c.quotas.json_per_minute = 0;
    Harness h(c);
    const auto t = h.token();
    std::string seq;
    for (int i = 0; i < 40; ++i) {
      const auto r = h.get(cpe_path, t);
      seq += r.action == WireAction::reset ? "R" : std::to_string(r.status) + ",";
    }
    const auto truth = h.get("/_admin/truth?tenant=tenant-a&dataset=cpe").body;
    return std::pair(seq, truth);
  };
  const auto a = run(1), b = run(1), c = run(2);
  EXPECT_EQ(a.first, b.first);
  EXPECT_NE(a.first, c.first);
  EXPECT_EQ(a.second, c.second);
}

TEST(Faults, CanBeChangedAtRunTime) {
  Harness h;
  const auto t = h.token();
  EXPECT_EQ(h.get(cpe_path, t).status, 200u);
  auto r = h.post("/_admin/faults?fault-5xx-rate=1&fault-slow-ms=10");
  ASSERT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"fault-5xx-rate\":1"), std::string::npos) << r.body;
  EXPECT_GE(h.get(cpe_path, t).status, 500u);
  EXPECT_EQ(h.post("/_admin/faults?fault-5xx-rate=0").status, 200u);
  EXPECT_EQ(h.get(cpe_path, t).status, 200u);
  EXPECT_EQ(h.post("/_admin/faults?fault-5xx-rate=2").status, 400u);
  EXPECT_EQ(h.post("/_admin/faults?bogus=1").status, 400u);
}

TEST(Gzip, CompressesJsonWhenEnabledAndAccepted) {
  auto c = base_config();
  c.gzip = true;
  Harness h(c);
  const auto t = h.token();
  const auto plain = h.get(cpe_path, t);
  const auto zipped = h.request("GET", cpe_path, {}, t, "gzip, deflate");
  ASSERT_EQ(zipped.status, 200u);
  ASSERT_NE(zipped.header("Content-Encoding"), nullptr);
  EXPECT_EQ(*zipped.header("Content-Encoding"), "gzip");
  EXPECT_EQ(plain.header("Content-Encoding"), nullptr);
  EXPECT_LT(zipped.body.size(), plain.body.size() / 4);
  EXPECT_EQ(testing::gunzip(zipped.body), plain.body);
  Harness off;
  EXPECT_EQ(off.request("GET", cpe_path, {}, off.token(), "gzip").header("Content-Encoding"), nullptr);
}

TEST(Admin, MutateReportsChangesAndTruthReflectsThem) {
  Harness h;
  const auto before = h.get("/_admin/truth?tenant=tenant-a&dataset=cpe").body;
  const auto r = h.post("/_admin/mutate?tenant=tenant-a&installs=3&uninstalls=2&upgrades=2&seed=11");
  ASSERT_EQ(r.status, 200u) << r.body;
  simdjson::dom::parser p;
  auto e = parse(p, r.body);
  EXPECT_EQ(std::string_view(e["tenant"]), "tenant-a");
  EXPECT_EQ(simdjson::dom::array(e["cpe"]["installed"]).size(), 3u);
  EXPECT_EQ(simdjson::dom::array(e["cpe"]["uninstalled"]).size(), 2u);
  EXPECT_EQ(simdjson::dom::array(e["noncpe"]["uninstalled"]).size(), 2u);
  simdjson::dom::object up = e["cpe"]["upgraded"].at(0);
  EXPECT_NE(std::string_view(up["from"]["softwareVersion"]), std::string_view(up["to"]["softwareVersion"]));
  const auto after = h.get("/_admin/truth?tenant=tenant-a&dataset=cpe").body;
  EXPECT_NE(after, before);
  simdjson::dom::parser q;
  std::set<RecordKey> keys;
  for (simdjson::dom::object rec : simdjson::dom::array(parse(q, after))) keys.insert(testing::key_from_json(rec));
  for (simdjson::dom::object k : simdjson::dom::array(e["cpe"]["uninstalled"]))
    EXPECT_FALSE(keys.count(testing::key_from_json(k)));
  for (simdjson::dom::object k : simdjson::dom::array(e["cpe"]["installed"]))
    EXPECT_TRUE(keys.count(testing::key_from_json(k)));
  EXPECT_TRUE(keys.count(testing::key_from_json(up["to"])));
  EXPECT_FALSE(keys.count(testing::key_from_json(up["from"])));
  // The other tenant is untouched.
  EXPECT_EQ(h.get("/_admin/tenants").body.find("\"tenant-b\":{\"devices\":30,") != std::string::npos, true);
}

TEST(Admin, MutationsAreVisibleThroughSinceTime) {
  Harness h;
  const auto t = h.token();
  h.clock.advance(std::chrono::seconds(10));
  const std::string since = format_iso8601_utc(h.clock.now_utc());
  const auto m = h.post("/_admin/mutate?tenant=tenant-a&installs=2&upgrades=1&seed=3");
  const auto page = h.get(std::string(cpe_path) + "?sinceTime=" + percent_encode(since), t);
  simdjson::dom::parser p;
  EXPECT_EQ(simdjson::dom::array(parse(p, page.body)["value"]).size(), 3u) << m.body;
}

TEST(Admin, RefusesRequestsFromOutsideLoopbackAndUnknownThings) {
  Harness h;
  EXPECT_EQ(h.request("GET", "/_admin/stats", {}, {}, {}, {}, false).status, 403u);
  EXPECT_EQ(h.get("/_admin/truth?tenant=nope").status, 404u);
  EXPECT_EQ(h.get("/_admin/truth?tenant=tenant-a&dataset=both").status, 400u);
  EXPECT_EQ(h.get("/_admin/mutate?tenant=tenant-a").status, 405u);
  EXPECT_EQ(h.post("/_admin/mutate?tenant=tenant-a&installs=x").status, 400u);
  EXPECT_EQ(h.get("/_admin/whatever").status, 404u);
}

TEST(Admin, StatsCountRequestsByPathAndStatusAndReset) {
  Harness h;
  const auto t = h.token();
  h.get(cpe_path, t);
  h.get(cpe_path);
  simdjson::dom::parser p;
  auto s = parse(p, h.get("/_admin/stats").body);
  EXPECT_EQ(std::uint64_t(s["requests"][cpe_path]["200"]), 1u);
  EXPECT_EQ(std::uint64_t(s["requests"][cpe_path]["401"]), 1u);
  EXPECT_EQ(std::uint64_t(s["requests"]["/tenant-a/oauth2/v2.0/token"]["200"]), 1u);
  EXPECT_EQ(std::uint64_t(s["tokens_issued"]), 1u);
  EXPECT_EQ(std::uint64_t(s["unauthorized"]), 1u);
  EXPECT_EQ(std::uint64_t(s["violations"]), 0u);
  EXPECT_EQ(std::uint64_t(s["throttled"]), 0u);
  EXPECT_EQ(std::uint64_t(s["early_retries"]), 0u);
  EXPECT_TRUE(s["faults_injected"].is_object());
  EXPECT_EQ(std::uint64_t(s["tenants"]["tenant-a"]["requests"]), 2u);
  EXPECT_EQ(h.post("/_admin/reset-stats").status, 200u);
  simdjson::dom::parser q;
  auto s2 = parse(q, h.get("/_admin/stats").body);
  EXPECT_EQ(std::uint64_t(s2["tokens_issued"]), 0u);
  EXPECT_EQ(std::uint64_t(s2["unauthorized"]), 0u);
}

TEST(Service, EveryResponseHasADateHeader) {
  Harness h;
  for (const auto& r : {h.get(cpe_path), h.get("/nowhere"), h.get("/_admin/stats"), h.post("/x/oauth2/v2.0/token")}) {
    ASSERT_NE(r.header("Date"), nullptr);
    EXPECT_TRUE(parse_http_date(*r.header("Date")).has_value()) << *r.header("Date");
  }
  EXPECT_EQ(parse_http_date(*h.get("/nowhere").header("Date")),
            std::chrono::floor<std::chrono::seconds>(h.clock.now_utc()));
}

}  // namespace
}  // namespace mdesync::fakeapi
