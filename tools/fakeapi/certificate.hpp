#pragma once
// X.509 helpers on OpenSSL alone (no Beast): self-signed certificates for --tls without
// files, and the client certificate whose key verifies client assertions.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

typedef struct x509_st X509;
typedef struct evp_pkey_st EVP_PKEY;

namespace mdesync::fakeapi {

enum class KeyKind { rsa2048, ec_p256 };

struct KeyAndCertificate {
  std::string private_key_pem;  // PKCS#8
  std::string certificate_pem;
};

struct SelfSignedOptions {
  KeyKind key = KeyKind::ec_p256;
  std::string common_name = "localhost";
  std::vector<std::string> dns_names = {"localhost"};
  std::vector<std::string> ip_addresses = {"127.0.0.1"};
  std::chrono::hours validity{24 * 30};
};

// Throws std::runtime_error when OpenSSL fails.
KeyAndCertificate make_self_signed(const SelfSignedOptions& options);

// A parsed certificate with its public key and thumbprints (base64url, as JWT x5t uses them).
class Certificate {
 public:
  // Throws std::runtime_error for anything that is not one PEM certificate.
  static Certificate from_pem(std::string_view pem);

  EVP_PKEY* public_key() const { return key_.get(); }
  X509* x509() const { return cert_.get(); }
  bool is_rsa() const;
  const std::string& x5t() const { return sha1_b64url_; }           // SHA-1 of the DER
  const std::string& x5t_s256() const { return sha256_b64url_; }    // SHA-256 of the DER

 private:
  std::shared_ptr<X509> cert_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string sha1_b64url_;
  std::string sha256_b64url_;
};

// The OpenSSL error queue as text, then cleared.
std::string openssl_errors();

}  // namespace mdesync::fakeapi
