#pragma once
// Verification of OAuth2 client assertions (RFC 7523 JWT bearer client authentication)
// the way Azure AD checks them for certificate credentials.
#include <string>
#include <string_view>

#include "certificate.hpp"
#include "core/clock.hpp"

namespace mdesync::fakeapi {

struct AssertionExpectations {
  std::string audience;   // the token URL the client used: scheme://Host/<tenant>/oauth2/v2.0/token
  std::string client_id;  // iss and sub
  SystemTime now;
};

// Accepts RS256 with header x5t (base64url SHA-1 of the certificate DER) and PS256 with
// x5t#S256 (SHA-256; PSS salt length = 32, MGF1-SHA-256, as RFC 7518 specifies). Every
// thumbprint header present must match. Claims: aud (a string, or an array holding it),
// iss = sub = client_id, nbf <= now < exp (no skew allowance), non-empty jti.
// Returns an empty string when valid, otherwise why not.
std::string verify_client_assertion(std::string_view jwt, const Certificate& cert, const AssertionExpectations& expect);

}  // namespace mdesync::fakeapi
