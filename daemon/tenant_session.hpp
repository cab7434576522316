#pragma once
// Everything one tenant needs to talk to the API: HTTP client, token source,
// quota limiter and the typed API client, built from the config.
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
  // Throws config::ConfigError when the tenant's secret cannot be read.
  TenantSession(const config::Config& cfg, const config::TenantOptions& tenant, const Clock& clock,
                api::RetryPolicy retry = {});

  api::DefenderClient& api() { return *api_; }
  auth::TokenSource& tokens() { return *tokens_; }

 private:
  std::unique_ptr<http::Client> http_;
  std::unique_ptr<auth::TokenSource> tokens_;
  std::unique_ptr<ratelimit::QuotaLimiter> quota_;
  std::unique_ptr<api::DefenderClient> api_;
};

}  // namespace mdesync
