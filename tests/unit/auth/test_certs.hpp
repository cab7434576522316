#pragma once
// Throwaway RSA keys and self-signed certificates, made at test time with
// OpenSSL so no key material is ever committed. Shared by test_auth and
// test_http_integration (library mdesync_test_certs).
#include <string>
#include <vector>

namespace mdesync::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  // unencrypted PKCS#8
  std::string der;              // the certificate, DER-encoded (what thumbprints hash)
};

// RSA-2048 key and a certificate for `common_name` valid from an hour ago for a
// day, with the given subjectAltName entries ("DNS:localhost", "IP:127.0.0.1").
TestCertificate make_self_signed(const std::string& common_name, const std::vector<std::string>& alt_names = {});

// The same private key encrypted with AES-256-CBC under `password` (PEM).
std::string encrypt_private_key(const std::string& private_key_pem, const std::string& password);

}  // namespace mdesync::testing
