#include "daemon/tenant_session.hpp"

namespace mdesync {

TenantSession::TenantSession(const config::Config& cfg, const config::TenantOptions& tenant, const Clock& clock,
                             api::RetryPolicy retry) {
  http::ClientOptions http_options;
  http_options.ca_file = cfg.http.ca_file;
  http_options.timeout = cfg.http.timeout;
  http_ = std::make_unique<http::Client>(http_options);
  std::string secret;
  if (tenant.secret.kind != config::SecretKind::certificate) secret = config::read_client_secret(tenant);
  tokens_ = std::make_unique<auth::TokenSource>(tenant, *http_, clock, std::move(secret));
  quota_ = std::make_unique<ratelimit::QuotaLimiter>(
      ratelimit::Quota{cfg.limits.json_per_minute, cfg.limits.json_per_hour},
      ratelimit::Quota{cfg.limits.export_per_minute, cfg.limits.export_per_hour}, clock);
  api_ = std::make_unique<api::DefenderClient>(tenant, *http_, *tokens_, *quota_, clock, retry);
}

}  // namespace mdesync
