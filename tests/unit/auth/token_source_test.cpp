// TokenSource against a recording fake transport and a fake clock: what it
// sends, when it fetches, and what its errors say (and never say).
#include "auth/token_source.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "auth/flat_json.hpp"
#include "core/base64.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "support/temp_dir.hpp"
#include "unit/auth/recording_transport.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::auth {
namespace {

using namespace std::chrono_literals;
using testing::RecordingTransport;

constexpr const char* kTokenUrl = "https://login.microsoftonline.com/aaaaaaaa-bbbb/oauth2/v2.0/token";
constexpr const char* kScope = "https://api.securitycenter.microsoft.com/.default";
constexpr const char* kSecret = "s3cr&t=va+lue %x";

config::TenantOptions tenant() {
  config::TenantOptions t;
  t.name = "contoso";
  t.tenant_id = "aaaaaaaa-bbbb";
  t.client_id = "11111111-2222-3333-4444-555555555555";
  t.secret.kind = config::SecretKind::file;
  t.secret.path = "/etc/mdesync/contoso.secret";
  t.token_url = kTokenUrl;
  t.scope = kScope;
  return t;
}

std::string token_json(const std::string& token, const std::string& expires_in = "3599") {
  return R"({"token_type":"Bearer","expires_in":)" + expires_in + R"(,"ext_expires_in":3599,"access_token":")" +
         token + "\"}";
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form_fields(const std::string& body) {
  std::map<std::string, std::string> out;
  std::stringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    const auto eq = pair.find('=');
    out[percent_decode(pair.substr(0, eq))] = percent_decode(pair.substr(eq + 1));
  }
  return out;
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(MDESYNC_FIXTURES_DIR) + "/auth/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  if (s.str().empty()) throw std::runtime_error("missing fixture " + name);
  return s.str();
}

TEST(TokenSource, SecretFlowPostsAnEncodedFormToTheTokenUrl) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1"));

  EXPECT_EQ(source.token(), "tok-1");
  ASSERT_EQ(transport.requests.size(), 1u);
  const auto& r = transport.requests[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, kTokenUrl);
  EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                      std::pair<std::string, std::string>{"Content-Type", "application/x-www-form-urlencoded"}),
            r.headers.end());
  // Exact bytes: every reserved character of the secret percent-encoded.
  EXPECT_NE(r.body.find("&client_secret=s3cr%26t%3Dva%2Blue%20%25x"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("grant_type=client_credentials"), std::string::npos);
  const auto fields = form_fields(r.body);
  EXPECT_EQ(fields.size(), 4u);
  EXPECT_EQ(fields.at("grant_type"), "client_credentials");
  EXPECT_EQ(fields.at("client_id"), "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(fields.at("scope"), kScope);
  EXPECT_EQ(fields.at("client_secret"), kSecret);
}

TEST(TokenSource, CachesTheTokenUntilTheRefreshMargin) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1", "3599"));
  transport.answer(200, token_json("tok-2", "3599"));

  EXPECT_EQ(source.token(), "tok-1");
  clock.advance(3599s - 5min - 1s);  // one second before the 5-minute margin
  EXPECT_EQ(source.token(), "tok-1");
  EXPECT_EQ(transport.requests.size(), 1u);
  clock.advance(1s);
  EXPECT_EQ(source.token(), "tok-2");
  EXPECT_EQ(transport.requests.size(), 2u);
}

TEST(TokenSource, ShortLivedTokensRenewAtTenPercentOfTheirLifetime) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1", "\"600\""));  // expires_in as a string
  transport.answer(200, token_json("tok-2", "600"));

  EXPECT_EQ(source.token(), "tok-1");
  clock.advance(539s);
  EXPECT_EQ(source.token(), "tok-1");
  clock.advance(1s);
  EXPECT_EQ(source.token(), "tok-2");
}

TEST(TokenSource, RefreshMargin) {
  EXPECT_EQ(TokenSource::refresh_margin(3599s), 300s);
  EXPECT_EQ(TokenSource::refresh_margin(50min), 300s);
  EXPECT_EQ(TokenSource::refresh_margin(3000s - 10s), 299s);
  EXPECT_EQ(TokenSource::refresh_margin(600s), 60s);
}

TEST(TokenSource, InvalidateForcesARefetch) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1"));
  transport.answer(200, token_json("tok-2"));
  EXPECT_EQ(source.token(), "tok-1");
  source.invalidate();
  EXPECT_EQ(source.token(), "tok-2");
  EXPECT_EQ(source.token(), "tok-2");
  EXPECT_EQ(transport.requests.size(), 2u);
}

TEST(TokenSource, EarlyRenewalThatFailsTransientlyKeepsTheValidToken) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1", "3600"));
  transport.answer(503, "");
  transport.fail_with(Error(ErrorKind::transient, "connecting to login.microsoftonline.com failed"));
  transport.answer(401, fixture("aad_invalid_client_secret.json"));

  EXPECT_EQ(source.token(), "tok-1");
  clock.advance(3600s - 2min);  // inside the margin, not yet expired
  EXPECT_EQ(source.token(), "tok-1");  // 503 swallowed
  clock.advance(1min);
  EXPECT_EQ(source.token(), "tok-1");  // network error swallowed
  try {
    source.token();  // rejected credentials are not swallowed
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::auth);
  }
  EXPECT_EQ(transport.requests.size(), 4u);
}

TEST(TokenSource, ExpiredTokenIsNeverReturned) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("tok-1", "600"));
  transport.answer(503, "");
  EXPECT_EQ(source.token(), "tok-1");
  clock.advance(600s);
  try {
    source.token();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::transient);
  }
}

Error error_of(TokenSource& source) {
  try {
    source.token();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::fatal, "");
}

struct AadCase {
  const char* fixture;
  int status;
  const char* error;
  const char* code;
  const char* fix;
};

TEST(TokenSource, AadErrorsNameTenantErrorCodeAndFixButNeverTheSecret) {
  const AadCase cases[] = {
      {"aad_invalid_client_secret.json", 401, "invalid_client", "AADSTS7000215",
       "check the client secret (client_secret_file / client_secret_env)"},
      {"aad_expired_secret.json", 401, "invalid_client", "AADSTS7000222", "the client secret has expired"},
      {"aad_unknown_application.json", 400, "unauthorized_client", "AADSTS700016",
       "check client_id and that the app is registered in tenant_id"},
      {"aad_tenant_not_found.json", 400, "invalid_request", "AADSTS90002", "check tenant_id"},
      {"aad_bad_assertion.json", 401, "invalid_client", "AADSTS700027",
       "check certificate_file/private_key_file and that the certificate is uploaded to the app registration"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fixture);
    RecordingTransport transport;
    FakeClock clock;
    TokenSource source(tenant(), transport, clock, kSecret);
    transport.answer(c.status, fixture(c.fixture));
    const auto e = error_of(source);
    const std::string m = e.what();
    EXPECT_EQ(e.kind(), ErrorKind::auth);
    EXPECT_NE(m.find("tenant \"contoso\""), std::string::npos) << m;
    EXPECT_NE(m.find(c.error), std::string::npos) << m;
    EXPECT_NE(m.find(c.code), std::string::npos) << m;
    EXPECT_NE(m.find(c.fix), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
    EXPECT_EQ(m.find("s3cr%26t"), std::string::npos) << m;
  }
}

TEST(TokenSource, InvalidClientWithoutKnownCodePointsAtTheSecretOrTheCertificate) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(401, R"({"error":"invalid_client","error_description":"Something new."})");
  const std::string m = error_of(source).what();
  EXPECT_NE(m.find("invalid_client"), std::string::npos) << m;
  EXPECT_NE(m.find("check the client secret"), std::string::npos) << m;
}

TEST(TokenSource, AnEchoedSecretIsCutOutOfTheMessage) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(401, std::string(R"({"error":"invalid_client","error_description":"AADSTS7000215: bad secret )") +
                            kSecret + R"(","error_codes":[7000215]})");
  const std::string m = error_of(source).what();
  EXPECT_EQ(m.find(kSecret), std::string::npos) << m;
  EXPECT_NE(m.find("<redacted>"), std::string::npos) << m;
}

TEST(TokenSource, ThrottlingAndServerErrorsAreRetryable) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(429, "", {{"Retry-After", "7"}});
  transport.answer(503, R"({"error":"temporarily_unavailable","error_description":"AADSTS50196: try later"})");
  transport.answer(404, "<html>not found</html>");

  const auto throttled = error_of(source);
  EXPECT_EQ(throttled.kind(), ErrorKind::throttled);
  EXPECT_NE(std::string(throttled.what()).find("retry after 7 s"), std::string::npos) << throttled.what();
  const auto unavailable = error_of(source);
  EXPECT_EQ(unavailable.kind(), ErrorKind::transient);
  EXPECT_NE(std::string(unavailable.what()).find("temporarily_unavailable"), std::string::npos);
  const auto not_found = error_of(source);
  EXPECT_EQ(not_found.kind(), ErrorKind::auth);
  EXPECT_NE(std::string(not_found.what()).find("HTTP 404"), std::string::npos);
  EXPECT_NE(std::string(not_found.what()).find("check token_url"), std::string::npos);
}

TEST(TokenSource, NetworkFailuresAreTheTransportsError) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.fail_with(Error(ErrorKind::transient, "connecting to login.microsoftonline.com:443 failed: refused"));
  const auto e = error_of(source);
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  EXPECT_STREQ(e.what(), "connecting to login.microsoftonline.com:443 failed: refused");
}

TEST(TokenSource, MalformedSuccessResponses) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, "<html>captive portal</html>");
  transport.answer(200, R"({"token_type":"Bearer","expires_in":3599})");
  transport.answer(200, R"({"token_type":"Bearer","expires_in":"soon","access_token":"zz-unique-zz"})");
  transport.answer(200, R"({"token_type":"pop","expires_in":3599,"access_token":"tok"})");
  EXPECT_EQ(error_of(source).kind(), ErrorKind::transient);
  EXPECT_EQ(error_of(source).kind(), ErrorKind::auth);
  const std::string m = error_of(source).what();
  EXPECT_NE(m.find("expires_in"), std::string::npos);
  EXPECT_EQ(m.find("zz-unique-zz"), std::string::npos) << m;
  EXPECT_EQ(error_of(source).kind(), ErrorKind::auth);
}

TEST(TokenSource, NeitherSecretNorTokenReachesTheLog) {
  log::configure(log::Level::debug, log::Format::text, false);
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(tenant(), transport, clock, kSecret);
  transport.answer(200, token_json("very-secret-token"));
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(source.token(), "very-secret-token");
  const auto logged = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(logged.find("token_acquired"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("very-secret-token"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("s3cr"), std::string::npos) << logged;
  log::configure(log::Level::info, log::Format::text, false);
}

TEST(TokenSource, MissingSettingsAreConfigErrors) {
  RecordingTransport transport;
  FakeClock clock;
  auto t = tenant();
  t.scope.clear();
  try {
    TokenSource source(t, transport, clock, kSecret);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(std::string(e.what()).find("scope"), std::string::npos);
  }
  EXPECT_THROW(TokenSource(tenant(), transport, clock, ""), Error);
}

// --- certificate flow ---

const testing::TestCertificate& app_cert() {
  static const auto cert = testing::make_self_signed("mdesync-test-app");
  return cert;
}

config::TenantOptions certificate_tenant(const mdesync::testing::TempDir& dir, const std::string& algorithm) {
  auto t = tenant();
  t.secret.kind = config::SecretKind::certificate;
  t.secret.path.clear();
  t.secret.certificate_file = dir.write("app.crt", app_cert().certificate_pem).string();
  t.secret.private_key_file = dir.write("app.key", app_cert().private_key_pem).string();
  t.assertion_algorithm = algorithm;
  return t;
}

TEST(TokenSource, CertificateFlowSendsASignedAssertionAndNoSecret) {
  for (const std::string alg : {"RS256", "PS256"}) {
    SCOPED_TRACE(alg);
    mdesync::testing::TempDir dir;
    RecordingTransport transport;
    FakeClock clock;
    TokenSource source(certificate_tenant(dir, alg), transport, clock);
    transport.answer(200, token_json("cert-token"));
    EXPECT_EQ(source.token(), "cert-token");
    ASSERT_EQ(transport.requests.size(), 1u);
    const auto fields = form_fields(transport.requests[0].body);
    EXPECT_EQ(fields.size(), 5u);
    EXPECT_EQ(fields.count("client_secret"), 0u);
    EXPECT_EQ(fields.at("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    EXPECT_EQ(fields.at("grant_type"), "client_credentials");
    EXPECT_EQ(fields.at("scope"), kScope);

    const auto& jwt = fields.at("client_assertion");
    const auto dot = jwt.find('.');
    const auto header = FlatJson::parse(base64url_decode(jwt.substr(0, dot)).value_or(""));
    const auto claims = FlatJson::parse(base64url_decode(jwt.substr(dot + 1, jwt.rfind('.') - dot - 1)).value_or(""));
    ASSERT_TRUE(header && claims);
    EXPECT_EQ(header->string("alg"), alg);
    EXPECT_EQ(claims->string("aud"), kTokenUrl);
    EXPECT_EQ(claims->string("iss"), tenant().client_id);
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now_utc().time_since_epoch()).count();
    EXPECT_EQ(claims->integer("iat"), now);
    EXPECT_EQ(claims->integer("exp"), now + 600);
  }
}

TEST(TokenSource, CertificateRejectionNeverShowsTheAssertion) {
  mdesync::testing::TempDir dir;
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(certificate_tenant(dir, "RS256"), transport, clock);
  transport.answer(401, fixture("aad_bad_assertion.json"));
  const std::string m = error_of(source).what();
  const auto assertion = form_fields(transport.requests.at(0).body).at("client_assertion");
  EXPECT_NE(m.find("check certificate_file/private_key_file"), std::string::npos) << m;
  EXPECT_EQ(m.find(assertion.substr(0, 20)), std::string::npos) << m;
  EXPECT_EQ(m.find(assertion.substr(assertion.rfind('.') + 1, 20)), std::string::npos) << m;
}

TEST(TokenSource, CertificateProblemsAreReportedAtConstruction) {
  RecordingTransport transport;
  FakeClock clock;
  {
    mdesync::testing::TempDir dir;
    auto t = certificate_tenant(dir, "RS256");
    std::filesystem::permissions(t.secret.private_key_file, std::filesystem::perms::group_read,
                                 std::filesystem::perm_options::add);
    try {
      TokenSource source(t, transport, clock);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config);
      EXPECT_NE(std::string(e.what()).find("tenants[contoso]"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("group or others"), std::string::npos) << e.what();
    }
  }
  {
    mdesync::testing::TempDir dir;
    auto t = certificate_tenant(dir, "HS256");
    EXPECT_THROW(TokenSource(t, transport, clock), Error);
  }
  {
    mdesync::testing::TempDir dir;
    auto t = certificate_tenant(dir, "RS256");
    t.secret.certificate_file = (dir.path() / "missing.crt").string();
    try {
      TokenSource source(t, transport, clock);
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config);
      EXPECT_NE(std::string(e.what()).find("missing.crt"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(transport.requests.empty());
}

}  // namespace
}  // namespace mdesync::auth
