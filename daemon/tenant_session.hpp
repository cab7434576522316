#pragma once
// Everything one tenant needs to talk to the API, built from the config: its
// token cache and quota windows, shared by all of the tenant's work, and an API
// client for single-threaded callers (sync, check). The daemon builds one API
// client per run on top of tokens() and quota(), since HTTP clients are per thread.
//
// A reloaded config must not forget what a session knows: the quota windows
// belong to the tenant at the service (they do not start over because our
// config did), and a cached token stays good while its credentials are the same.
// So the daemon keeps a session across reloads when same_credentials() holds,
// and hands the old limiter to a new one when only the credentials changed.
#include <memory>
#include <string>

#include "api/defender_client.hpp"
#include "auth/token_source.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "http/client.hpp"
#include "ratelimit/quota_limiter.hpp"

namespace mdesync {

class TenantSession {
 public:
  // Throws config::ConfigError when the tenant's secret cannot be read. With
  // `quota`, the session uses that limiter (set to the config's limits) instead
  // of a new one.
  TenantSession(const config::Config& cfg, const config::TenantOptions& tenant, const Clock& clock,
                api::RetryPolicy retry = {}, std::shared_ptr<ratelimit::QuotaLimiter> quota = nullptr);

  const config::TenantOptions& options() const { return options_; }
  auth::TokenSource& tokens() { return *tokens_; }
  ratelimit::QuotaLimiter& quota() { return *quota_; }
  const std::shared_ptr<ratelimit::QuotaLimiter>& shared_quota() const { return quota_; }
  api::DefenderClient& api() { return *api_; }

  // Whether `other` would ask for the same tokens the same way: tenant, client,
  // credential source and its current contents, endpoints, and HTTP settings.
  // Then this session, with its cached token, can stand in for `other`.
  bool same_credentials(const TenantSession& other) const;

 private:
  config::TenantOptions options_;
  config::HttpOptions http_;
  std::string credentials_;  // the secret, or the certificate and key files' contents
  std::unique_ptr<http::Client> token_http_;  // used only under TokenSource's mutex
  std::unique_ptr<auth::TokenSource> tokens_;
  std::shared_ptr<ratelimit::QuotaLimiter> quota_;
  std::unique_ptr<http::Client> api_http_;
  std::unique_ptr<api::DefenderClient> api_;
};

}  // namespace mdesync
