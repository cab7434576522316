#include "daemon/tenant_session.hpp"

#include <fstream>
#include <sstream>

#include "api/client_options.hpp"

namespace mdesync {
namespace {

// What a certificate-based session signs with, as the files hold it now (the
// token source rereads them at every renewal; this is only for comparing).
std::string certificate_material(const config::TenantOptions& tenant) {
  std::string material;
  for (const auto& path : {tenant.secret.certificate_file, tenant.secret.private_key_file}) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    material += text.str();
    material.push_back('\0');
  }
  return material;
}

}  // namespace

TenantSession::TenantSession(const config::Config& cfg, const config::TenantOptions& tenant, const Clock& clock,
                             api::RetryPolicy retry, std::shared_ptr<ratelimit::QuotaLimiter> quota)
    : options_(tenant), http_(cfg.http) {
  auto token_options = api::client_options(cfg.http);
  if (tenant.secret.kind == config::SecretKind::managed_identity) {
    // The identity endpoint is on this machine (loopback, or the link-local
    // metadata address): a proxy cannot reach it and must never see its tokens.
    token_options.proxy.reset();
    token_options.allow_instance_metadata = true;
  }
  token_http_ = std::make_unique<http::Client>(std::move(token_options));
  std::string secret;
  switch (tenant.secret.kind) {
    case config::SecretKind::file:
    case config::SecretKind::env:
      secret = config::read_client_secret(tenant);
      credentials_ = secret;
      break;
    case config::SecretKind::certificate:
      credentials_ = certificate_material(tenant);
      break;
    case config::SecretKind::managed_identity:
    case config::SecretKind::workload_identity:
      // Nothing to compare beyond the settings: the platform's identity or the
      // federated token file (reread at every renewal) stand for the credentials.
      break;
  }
  tokens_ = std::make_unique<auth::TokenSource>(options_, *token_http_, clock, std::move(secret));
  const ratelimit::Quota json{cfg.limits.json_per_minute, cfg.limits.json_per_hour};
  const ratelimit::Quota exports{cfg.limits.export_per_minute, cfg.limits.export_per_hour};
  if (quota) {
    quota->set_quotas(json, exports);
    quota_ = std::move(quota);
  } else {
    quota_ = std::make_shared<ratelimit::QuotaLimiter>(json, exports, clock);
  }
  api_http_ = std::make_unique<http::Client>(api::client_options(cfg.http));
  api_ = std::make_unique<api::DefenderClient>(options_, *api_http_, *tokens_, *quota_, clock, retry);
}

bool TenantSession::same_credentials(const TenantSession& other) const {
  const auto& a = options_;
  const auto& b = other.options_;
  return a.tenant_id == b.tenant_id && a.client_id == b.client_id && a.secret == b.secret && a.cloud == b.cloud &&
         a.region == b.region && a.api_url == b.api_url && a.token_url == b.token_url && a.scope == b.scope &&
         a.assertion_algorithm == b.assertion_algorithm && http_ == other.http_ && credentials_ == other.credentials_;
}

}  // namespace mdesync
