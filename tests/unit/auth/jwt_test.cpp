// Client assertions: decoded and checked claim by claim, thumbprints checked
// against an independent computation, signatures verified with OpenSSL against
// the certificate's public key.
#include "auth/jwt.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <regex>
#include <set>

#include "auth/flat_json.hpp"
#include "core/base64.hpp"
#include "core/error.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::auth {
namespace {

using testing::TestCertificate;

const TestCertificate& app_cert() {
  static const TestCertificate cert = testing::make_self_signed("mdesync-test-app");
  return cert;
}

const TestCertificate& other_cert() {
  static const TestCertificate cert = testing::make_self_signed("someone-else");
  return cert;
}

struct Parts {
  std::string header_b64, claims_b64, signature_b64;
  FlatJson header, claims;
  std::string signature;
};

Parts split(const std::string& jwt) {
  const auto a = jwt.find('.');
  const auto b = jwt.find('.', a + 1);
  EXPECT_NE(a, std::string::npos);
  EXPECT_NE(b, std::string::npos);
  EXPECT_EQ(jwt.find('.', b + 1), std::string::npos);
  Parts p{jwt.substr(0, a), jwt.substr(a + 1, b - a - 1), jwt.substr(b + 1), {}, {}, {}};
  const auto header = base64url_decode(p.header_b64);
  const auto claims = base64url_decode(p.claims_b64);
  const auto signature = base64url_decode(p.signature_b64);
  if (!header || !claims || !signature) throw std::runtime_error("not base64url");
  auto h = FlatJson::parse(*header);
  auto c = FlatJson::parse(*claims);
  if (!h || !c) throw std::runtime_error("not JSON: " + *header + " / " + *claims);
  p.header = *h;
  p.claims = *c;
  p.signature = *signature;
  return p;
}

// Independent of the code under test: hash the DER the generator produced.
std::string thumbprint(const EVP_MD* md, const std::string& der) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(der.data(), der.size(), out, &n, md, nullptr);
  return base64url_encode(std::string(reinterpret_cast<char*>(out), n));
}

// RS256: PKCS#1 v1.5; PS256: PSS with MGF1-SHA-256 and a 32-byte salt, exactly.
bool verify(const Parts& p, const std::string& certificate_pem, JwtAlgorithm alg) {
  BIO* bio = BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_PKEY* pub = X509_get_pubkey(cert);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, pub) == 1;
  if (ok && alg == JwtAlgorithm::ps256) {
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) == 1;
  }
  const std::string input = p.header_b64 + "." + p.claims_b64;
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(p.signature.data()), p.signature.size(),
                              reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  X509_free(cert);
  return ok;
}

const SystemTime kNow = SystemTime{std::chrono::seconds(1'750'000'000)};
constexpr const char* kTokenUrl = "https://login.microsoftonline.com/contoso-tenant/oauth2/v2.0/token";
constexpr const char* kClientId = "11111111-2222-3333-4444-555555555555";

void expect_claims(const Parts& p) {
  EXPECT_EQ(p.claims.string("aud"), kTokenUrl);
  EXPECT_EQ(p.claims.string("iss"), kClientId);
  EXPECT_EQ(p.claims.string("sub"), kClientId);
  EXPECT_EQ(p.claims.integer("nbf"), 1'750'000'000);
  EXPECT_EQ(p.claims.integer("iat"), 1'750'000'000);
  EXPECT_EQ(p.claims.integer("exp"), 1'750'000'000 + 600);
  const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  EXPECT_TRUE(std::regex_match(p.claims.string("jti").value_or(""), uuid_v4));
}

TEST(Jwt, Rs256AssertionHasSha1ThumbprintClaimsAndVerifiablePkcs1Signature) {
  const AssertionSigner signer(app_cert().certificate_pem, app_cert().private_key_pem, JwtAlgorithm::rs256,
                               "tenants[t]");
  const auto p = split(signer.sign(kTokenUrl, kClientId, kNow));
  EXPECT_EQ(p.header.string("alg"), "RS256");
  EXPECT_EQ(p.header.string("typ"), "JWT");
  EXPECT_EQ(p.header.string("x5t"), thumbprint(EVP_sha1(), app_cert().der));
  EXPECT_FALSE(p.header.has("x5t#S256"));
  expect_claims(p);
  EXPECT_EQ(p.signature.size(), 256u);  // RSA-2048
  EXPECT_TRUE(verify(p, app_cert().certificate_pem, JwtAlgorithm::rs256));
  EXPECT_FALSE(verify(p, app_cert().certificate_pem, JwtAlgorithm::ps256));
  EXPECT_FALSE(verify(p, other_cert().certificate_pem, JwtAlgorithm::rs256));
}

TEST(Jwt, Ps256AssertionHasSha256ThumbprintAndVerifiablePssSignature) {
  const AssertionSigner signer(app_cert().certificate_pem, app_cert().private_key_pem, JwtAlgorithm::ps256,
                               "tenants[t]");
  const auto p = split(signer.sign(kTokenUrl, kClientId, kNow));
  EXPECT_EQ(p.header.string("alg"), "PS256");
  EXPECT_EQ(p.header.string("typ"), "JWT");
  EXPECT_EQ(p.header.string("x5t#S256"), thumbprint(EVP_sha256(), app_cert().der));
  EXPECT_FALSE(p.header.has("x5t"));
  expect_claims(p);
  EXPECT_TRUE(verify(p, app_cert().certificate_pem, JwtAlgorithm::ps256));
  EXPECT_FALSE(verify(p, app_cert().certificate_pem, JwtAlgorithm::rs256));
}

TEST(Jwt, EveryAssertionHasAFreshJti) {
  const AssertionSigner signer(app_cert().certificate_pem, app_cert().private_key_pem, JwtAlgorithm::rs256, "t");
  const auto a = split(signer.sign(kTokenUrl, kClientId, kNow));
  const auto b = split(signer.sign(kTokenUrl, kClientId, kNow));
  EXPECT_NE(a.claims.string("jti"), b.claims.string("jti"));
}

TEST(Jwt, CombinedPemFileServesAsCertificateAndKey) {
  const auto combined = app_cert().private_key_pem + app_cert().certificate_pem;
  const AssertionSigner signer(combined, combined, JwtAlgorithm::rs256, "t");
  EXPECT_EQ(signer.thumbprint(), thumbprint(EVP_sha1(), app_cert().der));
}

TEST(Jwt, ClaimValuesAreJsonEscaped) {
  const AssertionSigner signer(app_cert().certificate_pem, app_cert().private_key_pem, JwtAlgorithm::rs256, "t");
  const auto p = split(signer.sign("https://x/\"quoted\"\\", "id\n", kNow));
  EXPECT_EQ(p.claims.string("aud"), "https://x/\"quoted\"\\");
  EXPECT_EQ(p.claims.string("iss"), "id\n");
}

Error config_error_from(const std::string& cert, const std::string& key, JwtAlgorithm alg = JwtAlgorithm::rs256) {
  try {
    AssertionSigner(cert, key, alg, "tenants[contoso]");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::fatal, "");
}

TEST(Jwt, KeyOfAnotherCertificateIsAConfigError) {
  const auto e = config_error_from(app_cert().certificate_pem, other_cert().private_key_pem);
  EXPECT_EQ(e.kind(), ErrorKind::config);
  EXPECT_NE(std::string(e.what()).find("tenants[contoso]: private_key_file does not belong"), std::string::npos)
      << e.what();
}

TEST(Jwt, EncryptedKeyIsRefusedWithoutPrompting) {
  // Would block on the terminal if OpenSSL's default password prompt were used.
  const auto encrypted = testing::encrypt_private_key(app_cert().private_key_pem, "pw");
  const auto e = config_error_from(app_cert().certificate_pem, encrypted);
  EXPECT_EQ(e.kind(), ErrorKind::config);
  EXPECT_NE(std::string(e.what()).find("encrypted keys are not supported"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("PRIVATE KEY"), std::string::npos);
}

TEST(Jwt, GarbageFilesAreConfigErrors) {
  EXPECT_EQ(config_error_from("not a pem", app_cert().private_key_pem).kind(), ErrorKind::config);
  EXPECT_EQ(config_error_from(app_cert().certificate_pem, "not a pem").kind(), ErrorKind::config);
  EXPECT_NE(std::string(config_error_from("", app_cert().private_key_pem).what()).find("certificate_file"),
            std::string::npos);
}

TEST(Jwt, AlgorithmNames) {
  EXPECT_EQ(parse_jwt_algorithm("RS256"), JwtAlgorithm::rs256);
  EXPECT_EQ(parse_jwt_algorithm("PS256"), JwtAlgorithm::ps256);
  EXPECT_EQ(parse_jwt_algorithm("rs256"), std::nullopt);
  EXPECT_EQ(parse_jwt_algorithm("HS256"), std::nullopt);
  EXPECT_STREQ(to_string(JwtAlgorithm::ps256), "PS256");
}

TEST(Jwt, RandomUuidsAreVersion4AndDistinct) {
  const std::regex uuid_v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto id = random_uuid_v4();
    EXPECT_TRUE(std::regex_match(id, uuid_v4)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

}  // namespace
}  // namespace mdesync::auth
