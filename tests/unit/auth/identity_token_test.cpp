// TokenSource for the secretless flows, against a recording transport and a
// fake clock: the managed identity request (IMDS and App Service), the
// workload identity assertion read again at every renewal, expiry, and
// refusals that show the endpoint's reason but never the token or assertion.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "auth/token_source.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "support/scoped_env.hpp"
#include "support/temp_dir.hpp"
#include "unit/auth/recording_transport.hpp"

namespace mdesync::auth {
namespace {

using namespace std::chrono_literals;
using mdesync::testing::ScopedEnv;
using testing::RecordingTransport;

constexpr const char* kImds = "http://127.0.0.1:9/metadata/identity/oauth2/token";
constexpr const char* kTokenUrl = "https://login.microsoftonline.com/aaaaaaaa-bbbb/oauth2/v2.0/token";

config::TenantOptions managed(const std::string& client_id = {}) {
  config::TenantOptions t;
  t.name = "contoso";
  t.tenant_id = "aaaaaaaa-bbbb";
  t.scope = "https://api.securitycenter.microsoft.com/.default";
  t.secret.kind = config::SecretKind::managed_identity;
  t.secret.identity_endpoint = kImds;
  t.secret.managed_identity_client_id = client_id;
  return t;
}

config::TenantOptions workload() {
  auto t = managed();
  t.secret = {};
  t.secret.kind = config::SecretKind::workload_identity;
  t.client_id = "11111111-2222-3333-4444-555555555555";
  t.token_url = kTokenUrl;
  return t;
}

std::string header(const http::Request& r, const std::string& name) {
  const auto it = std::find_if(r.headers.begin(), r.headers.end(), [&](const auto& h) { return h.first == name; });
  return it == r.headers.end() ? std::string("<none>") : it->second;
}

std::string message_of(TokenSource& source) {
  try {
    (void)source.token();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(ManagedIdentityToken, ImdsIsAskedWithMetadataHeaderAndTheResourceNotTheScope) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(managed("99999999-aaaa"), transport, clock);
  transport.answer(200, R"({"access_token":"mi-tok-1","expires_in":"86399","token_type":"Bearer",)"
                        R"("resource":"https://api.securitycenter.microsoft.com"})");
  EXPECT_EQ(source.token(), "mi-tok-1");
  ASSERT_EQ(transport.requests.size(), 1u);
  const auto& r = transport.requests[0];
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, std::string(kImds) +
                       "?api-version=2018-02-01&resource=https%3A%2F%2Fapi.securitycenter.microsoft.com"
                       "&client_id=99999999-aaaa");
  EXPECT_EQ(header(r, "Metadata"), "true");
  EXPECT_EQ(header(r, "X-IDENTITY-HEADER"), "<none>");
  EXPECT_TRUE(r.body.empty());
}

TEST(ManagedIdentityToken, RenewsBeforeExpiryAndNeverHandsOutAnExpiredToken) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(managed(), transport, clock);
  transport.answer(200, R"({"access_token":"mi-1","expires_in":3600,"token_type":"Bearer"})");
  transport.answer(200, R"({"access_token":"mi-2","expires_in":3600,"token_type":"Bearer"})");
  EXPECT_EQ(source.token(), "mi-1");
  clock.advance(3600s - 5min - 1s);
  EXPECT_EQ(source.token(), "mi-1");
  clock.advance(1s);  // within the margin: renewed
  EXPECT_EQ(source.token(), "mi-2");
  EXPECT_EQ(transport.requests.size(), 2u);
  // An endpoint that stays away past expiry: the old token is never returned.
  clock.advance(3600s);
  transport.fail_with(Error(ErrorKind::transient, "connection refused"));
  EXPECT_THROW((void)source.token(), Error);
}

TEST(ManagedIdentityToken, AppServiceSendsItsHeaderAndAcceptsExpiresOnOnly) {
  ScopedEnv header_env("IDENTITY_HEADER", "zz-identity-header-zz");
  RecordingTransport transport;
  FakeClock clock;
  auto t = managed();
  t.secret.identity_protocol = config::IdentityProtocol::app_service;
  t.secret.identity_endpoint = "http://localhost:42356/msi/token";
  TokenSource source(t, transport, clock);
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(clock.now_utc().time_since_epoch()).count();
  transport.answer(200, R"({"access_token":"as-1","expires_on":")" + std::to_string(now + 7200) +
                            R"(","token_type":"Bearer"})");
  EXPECT_EQ(source.token(), "as-1");
  const auto& r = transport.requests.at(0);
  EXPECT_EQ(r.url.substr(0, r.url.find('&')), "http://localhost:42356/msi/token?api-version=2019-08-01");
  EXPECT_EQ(header(r, "X-IDENTITY-HEADER"), "zz-identity-header-zz");
  EXPECT_EQ(header(r, "Metadata"), "<none>");
}

TEST(ManagedIdentityToken, RefusalsShowTheReasonAndAreNotRetried) {
  for (const int status : {400, 403}) {
    SCOPED_TRACE(status);
    RecordingTransport transport;
    FakeClock clock;
    TokenSource source(managed("nope"), transport, clock);
    transport.answer(status, R"({"error":"invalid_request","error_description":"Identity not found"})");
    try {
      (void)source.token();
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_EQ(e.kind(), ErrorKind::auth) << m;
      EXPECT_NE(m.find("managed identity token request failed (HTTP " + std::to_string(status)), std::string::npos)
          << m;
      EXPECT_NE(m.find("Identity not found"), std::string::npos) << m;
      EXPECT_NE(m.find("managed_identity_client_id"), std::string::npos) << m;
    }
  }
}

TEST(ManagedIdentityToken, AMetadataServiceStillStartingIsTransient) {
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(managed(), transport, clock);
  transport.answer(410, "");
  try {
    (void)source.token();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::transient) << e.what();
  }
}

class WorkloadIdentityToken : public ::testing::Test {
 protected:
  void write_token(const std::string& text) {
    // Kubernetes swaps the projected file atomically; so do we.
    const auto tmp = dir_.write("token.tmp", text);
    std::filesystem::rename(tmp, file_);
  }
  mdesync::testing::TempDir dir_;
  std::filesystem::path file_ = dir_.path() / "azure-identity-token";
  ScopedEnv env_{"AZURE_FEDERATED_TOKEN_FILE", (dir_.path() / "azure-identity-token").string()};
};

TEST_F(WorkloadIdentityToken, TheFederatedTokenIsTheAssertionAndIsReadAgainAtEveryRenewal) {
  write_token("eyJ.fed-1.sig\n");
  RecordingTransport transport;
  FakeClock clock;
  TokenSource source(workload(), transport, clock);
  transport.answer(200, R"({"access_token":"wi-1","expires_in":3599,"token_type":"Bearer"})");
  transport.answer(200, R"({"access_token":"wi-2","expires_in":3599,"token_type":"Bearer"})");
  EXPECT_EQ(source.token(), "wi-1");
  write_token("eyJ.fed-2.sig");  // the kubelet rotated it
  clock.advance(3599s - 5min);
  EXPECT_EQ(source.token(), "wi-2");
  ASSERT_EQ(transport.requests.size(), 2u);
  for (const auto& [r, assertion] : {std::pair{transport.requests[0], "eyJ.fed-1.sig"},
                                     std::pair{transport.requests[1], "eyJ.fed-2.sig"}}) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.url, kTokenUrl);
    EXPECT_NE(r.body.find("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"),
              std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find(std::string("&client_assertion=") + assertion), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("client_id=11111111-2222-3333-4444-555555555555"), std::string::npos);
    EXPECT_EQ(r.body.find("client_secret"), std::string::npos);
  }
}

TEST_F(WorkloadIdentityToken, ARefusalShowsTheReasonButNeverTheAssertionOrToken) {
  write_token("eyJ.zz-federated-zz.sig");
  RecordingTransport transport;
  FakeClock clock;
  log::configure(log::Level::debug, log::Format::text, false);
  TokenSource source(workload(), transport, clock);
  transport.answer(400, R"({"error":"invalid_client","error_description":"AADSTS700213: No matching federated )"
                        R"(identity record found for presented assertion subject 'eyJ.zz-federated-zz.sig'.",)"
                        R"("error_codes":[700213]})");
  ::testing::internal::CaptureStderr();
  const std::string m = message_of(source);
  const auto logged = ::testing::internal::GetCapturedStderr();
  log::configure(log::Level::info, log::Format::text, false);
  EXPECT_NE(m.find("AADSTS700213"), std::string::npos) << m;
  EXPECT_NE(m.find("federated credential"), std::string::npos) << m;
  EXPECT_EQ(m.find("zz-federated-zz"), std::string::npos) << m;
  EXPECT_EQ(logged.find("zz-federated-zz"), std::string::npos) << logged;
}

TEST_F(WorkloadIdentityToken, AMissingOrEmptyTokenFileIsAConfigErrorAtConstruction) {
  RecordingTransport transport;
  FakeClock clock;
  try {
    TokenSource source(workload(), transport, clock);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(std::string(e.what()).find("federated token file"), std::string::npos) << e.what();
  }
  write_token(" \n");
  EXPECT_THROW(TokenSource(workload(), transport, clock), Error);
  EXPECT_TRUE(transport.requests.empty());
}

}  // namespace
}  // namespace mdesync::auth
