#include "certificate.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>

#include "core/base64.hpp"

namespace mdesync::fakeapi {
namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + openssl_errors()); }

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::string digest_b64url(X509* cert, const EVP_MD* md) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, md, buf, &len) != 1) fail("X509_digest");
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(buf), len));
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

KeyAndCertificate make_self_signed(const SelfSignedOptions& o) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      o.key == KeyKind::rsa2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) fail("key generation");
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) fail("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate small clock differences
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(o.validity.count()) * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(o.common_name.c_str()),
                             -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("mde-fakeapi"), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  // CA:TRUE and no keyUsage: the certificate is its own trust anchor for clients that
  // load it with --ca-out; a keyUsage without keyCertSign would stop OpenSSL from
  // recognizing it as self-issued.
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_extension(cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  std::string san;
  for (const auto& d : o.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : o.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty()) add_extension(cert.get(), NID_subject_alt_name, san);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) fail("X509_sign");

  KeyAndCertificate out;
  std::unique_ptr<BIO, decltype(&BIO_free)> kb(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("PEM_write_bio_PrivateKey");
  out.private_key_pem = bio_text(kb.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> cb(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_X509(cb.get(), cert.get()) != 1) fail("PEM_write_bio_X509");
  out.certificate_pem = bio_text(cb.get());
  return out;
}

Certificate Certificate::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  X509* raw = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!raw) fail("not a PEM certificate");
  Certificate c;
  c.cert_ = std::shared_ptr<X509>(raw, X509_free);
  EVP_PKEY* key = X509_get_pubkey(raw);
  if (!key) fail("certificate has no usable public key");
  c.key_ = std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
  c.sha1_b64url_ = digest_b64url(raw, EVP_sha1());
  c.sha256_b64url_ = digest_b64url(raw, EVP_sha256());
  return c;
}

bool Certificate::is_rsa() const { return EVP_PKEY_is_a(key_.get(), "RSA") == 1; }

}  // namespace mdesync::fakeapi
