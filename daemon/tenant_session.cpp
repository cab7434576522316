#include "daemon/tenant_session.hpp"

#include "api/client_options.hpp"

namespace mdesync {

TenantSession::TenantSession(const config::Config& cfg, const config::TenantOptions& tenant, const Clock& clock,
                             api::RetryPolicy retry)
    : options_(tenant) {
  token_http_ = std::make_unique<http::Client>(api::client_options(cfg.http));
  std::string secret;
  if (tenant.secret.kind != config::SecretKind::certificate) secret = config::read_client_secret(tenant);
  tokens_ = std::make_unique<auth::TokenSource>(options_, *token_http_, clock, std::move(secret));
  quota_ = std::make_unique<ratelimit::QuotaLimiter>(
      ratelimit::Quota{cfg.limits.json_per_minute, cfg.limits.json_per_hour},
      ratelimit::Quota{cfg.limits.export_per_minute, cfg.limits.export_per_hour}, clock);
  api_http_ = std::make_unique<http::Client>(api::client_options(cfg.http));
  api_ = std::make_unique<api::DefenderClient>(options_, *api_http_, *tokens_, *quota_, clock, retry);
}

}  // namespace mdesync
