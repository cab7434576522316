#pragma once
// Everything one tenant needs to talk to the API, built from the config: its
// token cache and quota windows, shared by all of the tenant's work, and an API
// client for single-threaded callers (sync, check). The daemon builds one API
// client per run on top of tokens() and quota(), since HTTP clients are per thread.
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

  const config::TenantOptions& options() const { return options_; }
  auth::TokenSource& tokens() { return *tokens_; }
  ratelimit::QuotaLimiter& quota() { return *quota_; }
  api::DefenderClient& api() { return *api_; }

 private:
  config::TenantOptions options_;
  std::unique_ptr<http::Client> token_http_;  // used only under TokenSource's mutex
  std::unique_ptr<auth::TokenSource> tokens_;
  std::unique_ptr<ratelimit::QuotaLimiter> quota_;
  std::unique_ptr<http::Client> api_http_;
  std::unique_ptr<api::DefenderClient> api_;
};

}  // namespace mdesync
