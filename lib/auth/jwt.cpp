#include "auth/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>

#include "core/base64.hpp"
#include "core/json_escape.hpp"
#include "core/error.hpp"

namespace mdesync::auth {
namespace {

// The most recent OpenSSL error as text, and the queue cleared for the next caller.
std::string openssl_error() {
  unsigned long code = 0;
  unsigned long last = 0;
  while ((code = ERR_get_error()) != 0) last = code;
  if (last == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

std::unique_ptr<BIO, BioFree> memory_bio(std::string_view text) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Invariant: a daemon never prompts. OpenSSL's default for an encrypted PEM is to
// ask on the terminal; answering "no password" makes it fail instead.
int no_password(char*, int, int, void*) { return 0; }

std::string digest(const EVP_MD* md, std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int n = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &n, md, nullptr) != 1)
    throw Error(ErrorKind::fatal, "jwt: digest failed: " + openssl_error());
  return std::string(reinterpret_cast<const char*>(out.data()), n);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  append_json_escaped(out, s);
  return out + "\"";
}

}  // namespace

std::optional<JwtAlgorithm> parse_jwt_algorithm(std::string_view name) {
  if (name == "RS256") return JwtAlgorithm::rs256;
  if (name == "PS256") return JwtAlgorithm::ps256;
  return std::nullopt;
}

const char* to_string(JwtAlgorithm algorithm) { return algorithm == JwtAlgorithm::ps256 ? "PS256" : "RS256"; }

std::string random_uuid_v4() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1)
    throw Error(ErrorKind::fatal, "jwt: no random bytes: " + openssl_error());
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

struct AssertionSigner::Key {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

AssertionSigner::AssertionSigner(std::string_view certificate_pem, std::string_view private_key_pem,
                                 JwtAlgorithm algorithm, const std::string& who)
    : key_(std::make_unique<Key>()), algorithm_(algorithm) {
  ERR_clear_error();
  auto cert_bio = memory_bio(certificate_pem);
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(cert_bio.get(), nullptr, no_password, nullptr));
  if (!cert) throw Error(ErrorKind::config, who + ": certificate_file holds no PEM certificate: " + openssl_error());

  auto key_bio = memory_bio(private_key_pem);
  key_->pkey.reset(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_password, nullptr));
  if (!key_->pkey)
    throw Error(ErrorKind::config, who + ": private_key_file holds no unencrypted PEM private key (" +
                                       openssl_error() + "); encrypted keys are not supported");
  if (!EVP_PKEY_is_a(key_->pkey.get(), "RSA") &&
      !(algorithm == JwtAlgorithm::ps256 && EVP_PKEY_is_a(key_->pkey.get(), "RSA-PSS")))
    throw Error(ErrorKind::config, who + ": private_key_file must hold an RSA key for " +
                                       std::string(to_string(algorithm)));
  if (X509_check_private_key(cert.get(), key_->pkey.get()) != 1) {
    ERR_clear_error();
    throw Error(ErrorKind::config, who + ": private_key_file does not belong to the certificate in certificate_file");
  }

  const int der_len = i2d_X509(cert.get(), nullptr);
  if (der_len <= 0) throw Error(ErrorKind::config, who + ": cannot encode the certificate: " + openssl_error());
  std::string der(static_cast<std::size_t>(der_len), '\0');
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  i2d_X509(cert.get(), &p);
  thumbprint_ = base64url_encode(digest(algorithm == JwtAlgorithm::ps256 ? EVP_sha256() : EVP_sha1(), der));
}

AssertionSigner::~AssertionSigner() = default;
AssertionSigner::AssertionSigner(AssertionSigner&&) noexcept = default;
AssertionSigner& AssertionSigner::operator=(AssertionSigner&&) noexcept = default;

std::string AssertionSigner::sign(std::string_view audience, std::string_view client_id, SystemTime now) const {
  const bool pss = algorithm_ == JwtAlgorithm::ps256;
  const auto header = std::string("{\"alg\":\"") + to_string(algorithm_) + "\",\"typ\":\"JWT\",\"" +
                      (pss ? "x5t#S256" : "x5t") + "\":" + json_string(thumbprint_) + "}";
  const auto iat = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto exp = iat + std::chrono::duration_cast<std::chrono::seconds>(assertion_lifetime).count();
  const auto claims = "{\"aud\":" + json_string(audience) + ",\"iss\":" + json_string(client_id) +
                      ",\"sub\":" + json_string(client_id) + ",\"jti\":" + json_string(random_uuid_v4()) +
                      ",\"nbf\":" + std::to_string(iat) + ",\"iat\":" + std::to_string(iat) +
                      ",\"exp\":" + std::to_string(exp) + "}";
  const auto signing_input = base64url_encode(header) + "." + base64url_encode(claims);

  ERR_clear_error();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key_->pkey.get()) != 1)
    throw Error(ErrorKind::fatal, "jwt: cannot initialise signing: " + openssl_error());
  if (pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
              EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1))
    throw Error(ErrorKind::fatal, "jwt: cannot configure RSA-PSS: " + openssl_error());
  std::size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signing_input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, signing_input.size()) != 1)
    throw Error(ErrorKind::fatal, "jwt: signing failed: " + openssl_error());
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len, data,
                     signing_input.size()) != 1)
    throw Error(ErrorKind::fatal, "jwt: signing failed: " + openssl_error());
  signature.resize(len);
  return signing_input + "." + base64url_encode(signature);
}

}  // namespace mdesync::auth
