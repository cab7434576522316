#pragma once
// Access tokens for one tenant, cached and renewed before they expire. The API
// layer asks token() before each request and calls invalidate() after a 401,
// then retries once. Four ways to get one (config::SecretKind):
//  - OAuth2 client credentials at token_url, with a client secret, a client
//    assertion signed with the app's certificate, or (workload identity) the
//    federated token Kubernetes projects into AZURE_FEDERATED_TOKEN_FILE as the
//    assertion, read again for every request (the kubelet rotates it);
//  - a managed identity's endpoint (IMDS, or App Service's), see managed_identity.hpp.
//
// Invariants: the client secret, the client assertion and the federated token
// go to token_url and nowhere else; IDENTITY_HEADER goes to the identity
// endpoint only; the access token goes to callers only. None of them ever
// appears in an error message or a log line.
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "http/transport.hpp"

namespace mdesync::auth {

class AssertionSigner;

class TokenSource {
 public:
  // Renew when the token expires within this margin (5 min), or within 10% of
  // its lifetime for tokens shorter than short_lifetime (50 min). Managed
  // identity tokens live up to a day, so the same margin serves them.
  static constexpr std::chrono::seconds refresh_margin_default{5 * 60};
  static constexpr std::chrono::seconds short_lifetime{50 * 60};
  static std::chrono::seconds refresh_margin(std::chrono::seconds lifetime);

  // `client_secret` is the resolved secret (config::read_client_secret) for the
  // file and env kinds and ignored for the others. The certificate kind's files,
  // the federated token file and IDENTITY_HEADER are read and checked here, now
  // (so a bad setup fails at startup), and again on every renewal (so a rotated
  // certificate or token is picked up without a restart). token_url, client_id
  // and scope must be filled (the config loader derives them), except that a
  // managed identity needs only scope and its endpoint.
  // Throws mdesync::Error(ErrorKind::config).
  TokenSource(const config::TenantOptions& tenant, http::Transport& transport, const Clock& clock,
              std::string client_secret = {});
  ~TokenSource();
  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  // A bearer token. Fetches one when none is cached or the cached one is due for
  // renewal; if an early renewal fails transiently (5xx, 429, network) the cached,
  // still valid token is returned and renewal is tried again next call. Throws mdesync::Error: auth (credentials
  // rejected; the message says what to fix), throttled (429), transient (5xx,
  // network), config (certificate files unreadable).
  std::string token();
  // Forgets the cached token; the next token() fetches a new one.
  void invalidate();

 private:
  struct Cached {
    std::string access_token;
    SteadyTime renew_at;    // from here on token() tries to renew it
    SteadyTime expires_at;  // from here on it is never handed out
  };
  void fetch();
  http::Request token_request(std::string& assertion, std::string& identity_header) const;
  std::string client_assertion() const;
  std::unique_ptr<AssertionSigner> load_signer() const;

  config::TenantOptions tenant_;
  http::Transport& transport_;
  const Clock& clock_;
  std::string client_secret_;
  std::mutex mutex_;  // one fetch at a time; callers on other threads wait for it
  std::optional<Cached> cached_;
};

}  // namespace mdesync::auth
