#pragma once
// Workload identity federation, both halves: the Kubernetes side that issues
// service account tokens (an OIDC issuer with its signing key), and the Entra
// side that accepts such a token as a client_assertion when a federated
// credential on the app registration matches its issuer, subject and audience.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace mdesync::fakeapi {

// The audience Entra requires of federated tokens.
inline constexpr std::string_view federated_audience = "api://AzureADTokenExchange";

struct FederatedClaims {
  std::string issuer;
  std::string subject;
  std::string audience{federated_audience};
  SystemTime not_before{};
  SystemTime expires{};
};

// Why Entra refused a federated assertion: its AADSTS code and description.
struct FederatedVerdict {
  int code = 0;  // 0: accepted
  std::string reason;
};

class FederatedIssuer {
 public:
  // Generates the issuer's RSA signing key. Throws std::runtime_error.
  FederatedIssuer();

  // An RS256 JWT with a "kid" header, as the kubelet projects into pods.
  std::string mint(const FederatedClaims& claims) const;

  // Entra's checks of a federated client assertion against the one federated
  // credential the simulator knows (issuer and subject; the audience is fixed).
  FederatedVerdict verify(std::string_view jwt, const std::string& issuer, const std::string& subject,
                          SystemTime now) const;

 private:
  std::shared_ptr<EVP_PKEY> key_;
  std::string kid_;
};

// The "iss" claim of a JWT, without checking anything else: a certificate
// assertion names the client itself, a federated one an OIDC issuer.
std::optional<std::string> unverified_issuer(std::string_view jwt);

}  // namespace mdesync::fakeapi
