#pragma once
// Client assertions for the OAuth2 certificate flow (RFC 7523, as Entra ID wants
// them): a JWT signed with the app's RSA key, naming the certificate by its
// thumbprint. Pure OpenSSL, no configuration, no I/O beyond what callers pass in.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mdesync::auth {

enum class JwtAlgorithm {
  rs256,  // RSASSA-PKCS1-v1_5 with SHA-256; header names the cert by "x5t" (SHA-1 thumbprint)
  ps256,  // RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32; header names it by "x5t#S256"
};

// "RS256" / "PS256" (exact spelling); nullopt otherwise.
std::optional<JwtAlgorithm> parse_jwt_algorithm(std::string_view name);
const char* to_string(JwtAlgorithm algorithm);

// How long an assertion is valid. Short on purpose: an assertion is a bearer
// credential for the token endpoint until it expires.
inline constexpr std::chrono::minutes assertion_lifetime{10};

// A random RFC 4122 version 4 UUID in lower-case 8-4-4-4-12 form (the "jti").
std::string random_uuid_v4();

class AssertionSigner {
 public:
  // `certificate_pem` holds the certificate first (a chain may follow);
  // `private_key_pem` an unencrypted RSA private key that matches it (it may be
  // the same text). `who` starts every error message, e.g. "tenants[contoso]".
  // Throws mdesync::Error(ErrorKind::config); messages never contain key material.
  AssertionSigner(std::string_view certificate_pem, std::string_view private_key_pem, JwtAlgorithm algorithm,
                  const std::string& who);
  ~AssertionSigner();
  AssertionSigner(AssertionSigner&&) noexcept;
  AssertionSigner& operator=(AssertionSigner&&) noexcept;

  // header.claims.signature: aud = audience (the token URL), iss = sub = client_id,
  // jti = random UUID, nbf = iat = now, exp = now + assertion_lifetime.
  std::string sign(std::string_view audience, std::string_view client_id, SystemTime now) const;

  JwtAlgorithm algorithm() const { return algorithm_; }
  // base64url(SHA-1(DER)) for RS256 ("x5t"), base64url(SHA-256(DER)) for PS256 ("x5t#S256").
  const std::string& thumbprint() const { return thumbprint_; }

 private:
  struct Key;
  std::unique_ptr<Key> key_;
  JwtAlgorithm algorithm_;
  std::string thumbprint_;
};

}  // namespace mdesync::auth
