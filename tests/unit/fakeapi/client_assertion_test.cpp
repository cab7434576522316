// Client assertion (JWT) verification against a certificate made in the test.
#include <gtest/gtest.h>

#include "client_assertion.hpp"
#include "core/base64.hpp"
#include "test_util.hpp"

namespace mdesync::fakeapi {
namespace {

using testing::sign_jwt;

constexpr const char* client = "11111111-2222-3333-4444-555555555555";
constexpr const char* aud = "https://127.0.0.1:4443/tenant-a/oauth2/v2.0/token";

struct Fixture : ::testing::Test {
  static inline KeyAndCertificate kc, other;
  static void SetUpTestSuite() {
    SelfSignedOptions o;
    o.key = KeyKind::rsa2048;
    o.common_name = "mdesync-client";
    o.dns_names.clear();
    o.ip_addresses.clear();
    kc = make_self_signed(o);
    other = make_self_signed(o);
  }
  Certificate cert = Certificate::from_pem(kc.certificate_pem);
  const std::int64_t now = 1'700'000'000;

  AssertionExpectations expect() const {
    return {aud, client, SystemTime(std::chrono::seconds(now))};
  }
  std::string header(const std::string& alg) const {
    return alg == "PS256" ? R"({"alg":"PS256","typ":"JWT","x5t#S256":")" + cert.x5t_s256() + "\"}"
                          : R"({"alg":"RS256","typ":"JWT","x5t":")" + cert.x5t() + "\"}";
  }
  std::string payload(std::string audience = aud, std::int64_t nbf_delta = -10, std::int64_t exp_delta = 600,
                      std::string iss = client, bool jti = true) const {
    return R"({"aud":")" + audience + R"(","iss":")" + iss + R"(","sub":")" + std::string(client) +
           (jti ? R"(","jti":"6f1e1c8b-5d6c-4b7e-9a53-2c1a9d0f0e11)" : "") + R"(","nbf":)" +
           std::to_string(now + nbf_delta) + R"(,"exp":)" + std::to_string(now + exp_delta) + "}";
  }
  std::string verify(const std::string& jwt) const { return verify_client_assertion(jwt, cert, expect()); }
};

TEST_F(Fixture, AcceptsValidRs256WithSha1Thumbprint) {
  EXPECT_EQ(verify(sign_jwt(header("RS256"), payload(), kc.private_key_pem, "RS256")), "");
}

TEST_F(Fixture, AcceptsValidPs256WithSha256Thumbprint) {
  EXPECT_EQ(verify(sign_jwt(header("PS256"), payload(), kc.private_key_pem, "PS256")), "");
}

TEST_F(Fixture, AcceptsAudienceAsArray) {
  const std::string p = R"({"aud":[")" + std::string(aud) + R"("],"iss":")" + client + R"(","sub":")" + client +
                        R"(","jti":"x","nbf":)" + std::to_string(now) + R"(,"exp":)" + std::to_string(now + 60) + "}";
  EXPECT_EQ(verify(sign_jwt(header("RS256"), p, kc.private_key_pem, "RS256")), "");
}

TEST_F(Fixture, RejectsSignatureFromAnotherKey) {
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(), other.private_key_pem, "RS256")), "");
  EXPECT_NE(verify(sign_jwt(header("PS256"), payload(), other.private_key_pem, "PS256")), "");
}

TEST_F(Fixture, RejectsTamperedPayload) {
  const std::string jwt = sign_jwt(header("RS256"), payload(), kc.private_key_pem, "RS256");
  const auto d1 = jwt.find('.'), d2 = jwt.rfind('.');
  const std::string forged = jwt.substr(0, d1 + 1) + base64url_encode(payload("https://evil/token")) + jwt.substr(d2);
  EXPECT_NE(verify(forged), "");
}

TEST_F(Fixture, RejectsWrongAudience) {
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload("https://login.microsoftonline.com/tenant-a/oauth2/v2.0/token"),
                            kc.private_key_pem, "RS256")),
            "");
}

TEST_F(Fixture, RejectsExpiredAndNotYetValid) {
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(aud, -600, -1), kc.private_key_pem, "RS256")), "");
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(aud, -600, 0), kc.private_key_pem, "RS256")), "") << "exp == now";
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(aud, 30, 600), kc.private_key_pem, "RS256")), "");
}

TEST_F(Fixture, RejectsWrongThumbprint) {
  const Certificate o = Certificate::from_pem(other.certificate_pem);
  EXPECT_NE(verify(sign_jwt(R"({"alg":"RS256","x5t":")" + o.x5t() + "\"}", payload(), kc.private_key_pem, "RS256")),
            "");
  EXPECT_NE(verify(sign_jwt(R"({"alg":"PS256","x5t#S256":")" + o.x5t_s256() + "\"}", payload(), kc.private_key_pem,
                            "PS256")),
            "");
  // PS256 needs the SHA-256 thumbprint; RS256 the SHA-1 one.
  EXPECT_NE(verify(sign_jwt(R"({"alg":"PS256","x5t":")" + cert.x5t() + "\"}", payload(), kc.private_key_pem, "PS256")),
            "");
  EXPECT_NE(verify(sign_jwt(R"({"alg":"RS256"})", payload(), kc.private_key_pem, "RS256")), "");
}

TEST_F(Fixture, RejectsWrongIssuerAndMissingJti) {
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(aud, -10, 600, "someone-else"), kc.private_key_pem, "RS256")), "");
  EXPECT_NE(verify(sign_jwt(header("RS256"), payload(aud, -10, 600, client, false), kc.private_key_pem, "RS256")), "");
}

TEST_F(Fixture, RejectsAlgNoneAndGarbage) {
  const std::string unsigned_jwt = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(payload()) + ".";
  EXPECT_NE(verify(unsigned_jwt), "");
  EXPECT_NE(verify("not-a-jwt"), "");
  EXPECT_NE(verify("a.b.c.d"), "");
  EXPECT_NE(verify(base64url_encode("[1]") + "." + base64url_encode("{}") + ".AAAA"), "");
}

TEST(Certificate, ThumbprintsAreBase64UrlDigestsOfTheDer) {
  SelfSignedOptions o;
  o.key = KeyKind::rsa2048;
  const auto kc = make_self_signed(o);
  const auto c = Certificate::from_pem(kc.certificate_pem);
  EXPECT_EQ(base64url_decode(c.x5t())->size(), 20u);
  EXPECT_EQ(base64url_decode(c.x5t_s256())->size(), 32u);
  EXPECT_TRUE(c.is_rsa());
  EXPECT_FALSE(Certificate::from_pem(make_self_signed(SelfSignedOptions{}).certificate_pem).is_rsa());
  EXPECT_THROW(Certificate::from_pem("garbage"), std::runtime_error);
}

}  // namespace
}  // namespace mdesync::fakeapi
