#include "auth/token_source.hpp"

#include <fstream>
#include <sstream>

#include "auth/form.hpp"
#include "auth/jwt.hpp"
#include "auth/managed_identity.hpp"
#include "auth/token_error.hpp"
#include "auth/token_response.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/url.hpp"

namespace mdesync::auth {
namespace {

constexpr const char* assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

std::string who(const config::TenantOptions& tenant) { return "tenants[" + tenant.name + "]"; }

std::string read_certificate(const std::string& path, const std::string& owner) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::config, owner + ": cannot read certificate_file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::chrono::seconds TokenSource::refresh_margin(std::chrono::seconds lifetime) {
  if (lifetime < short_lifetime) return lifetime / 10;
  return refresh_margin_default;
}

TokenSource::TokenSource(const config::TenantOptions& tenant, http::Transport& transport, const Clock& clock,
                         std::string client_secret)
    : tenant_(tenant), transport_(transport), clock_(clock), client_secret_(std::move(client_secret)) {
  using config::SecretKind;
  const SecretKind kind = tenant_.secret.kind;
  const auto require = [this](const char* key, const std::string& value) {
    if (value.empty()) throw Error(ErrorKind::config, who(tenant_) + ": " + key + " is empty");
  };
  if (kind == SecretKind::managed_identity) {
    require("managed_identity_endpoint", tenant_.secret.identity_endpoint);
  } else {
    require("token_url", tenant_.token_url);
    require("client_id", tenant_.client_id);
  }
  require("scope", tenant_.scope);
  if (kind != SecretKind::file && kind != SecretKind::env) client_secret_.clear();
  // Fail now rather than at the first sync.
  try {
    switch (kind) {
      case SecretKind::file:
      case SecretKind::env:
        if (client_secret_.empty()) throw Error(ErrorKind::config, who(tenant_) + ": no client secret given");
        break;
      case SecretKind::certificate:
        load_signer();
        break;
      case SecretKind::workload_identity:
        (void)config::read_federated_token(tenant_);
        break;
      case SecretKind::managed_identity:
        if (tenant_.secret.identity_protocol == config::IdentityProtocol::app_service)
          (void)config::read_identity_header(tenant_);
        break;
    }
  } catch (const config::ConfigError& e) {
    throw Error(ErrorKind::config, e.what());
  }
}

TokenSource::~TokenSource() = default;

std::unique_ptr<AssertionSigner> TokenSource::load_signer() const {
  const auto owner = who(tenant_);
  const auto algorithm = parse_jwt_algorithm(tenant_.assertion_algorithm);
  if (!algorithm)
    throw Error(ErrorKind::config, owner + ".assertion_algorithm: \"" + tenant_.assertion_algorithm +
                                       "\" is not RS256 or PS256");
  const auto certificate = read_certificate(tenant_.secret.certificate_file, owner);
  std::string key;
  try {
    // The same checks as a client secret file: regular, non-empty, private to us.
    key = config::read_secret_file(tenant_.secret.private_key_file, owner + ".private_key_file");
  } catch (const config::ConfigError& e) {
    throw Error(ErrorKind::config, e.what());
  }
  return std::make_unique<AssertionSigner>(certificate, key, *algorithm, owner);
}

std::string TokenSource::client_assertion() const {
  return load_signer()->sign(tenant_.token_url, tenant_.client_id, clock_.now_utc());
}

// The request for a new token. `assertion` and `identity_header` receive what
// must never be shown should the answer echo it.
http::Request TokenSource::token_request(std::string& assertion, std::string& identity_header) const {
  using config::SecretKind;
  const SecretKind kind = tenant_.secret.kind;
  try {
    if (kind == SecretKind::managed_identity) {
      if (tenant_.secret.identity_protocol == config::IdentityProtocol::app_service)
        identity_header = config::read_identity_header(tenant_);
      return managed_identity_request(tenant_, identity_header);
    }
    // Read for every request: the kubelet replaces the file well before its
    // token expires, and a token read at startup would be stale within hours.
    if (kind == SecretKind::workload_identity) assertion = config::read_federated_token(tenant_);
  } catch (const config::ConfigError& e) {
    throw Error(ErrorKind::config, e.what());
  }
  if (kind == SecretKind::certificate) assertion = client_assertion();
  std::vector<std::pair<std::string_view, std::string_view>> fields{
      {"grant_type", "client_credentials"}, {"client_id", tenant_.client_id}, {"scope", tenant_.scope}};
  if (kind == SecretKind::certificate || kind == SecretKind::workload_identity) {
    fields.emplace_back("client_assertion_type", assertion_type);
    fields.emplace_back("client_assertion", assertion);
  } else {
    fields.emplace_back("client_secret", client_secret_);
  }
  http::Request request;
  request.method = "POST";
  request.url = tenant_.token_url;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = form_body(fields);
  return request;
}

void TokenSource::fetch() {
  std::string assertion, identity_header;
  const http::Request request = token_request(assertion, identity_header);
  const auto started = clock_.now_steady();
  const auto started_utc = clock_.now_utc();
  const http::Response response = transport_.send(request);  // network errors propagate as they are
  // An endpoint that echoes the request echoes the form, so the secret comes back encoded too.
  if (response.status != 200)
    throw token_error(tenant_, response.status, response.body, response.header("Retry-After"),
                      {client_secret_, percent_encode(client_secret_), assertion, identity_header});

  // Only a managed identity's endpoint may answer with expires_on alone.
  const bool managed = tenant_.secret.kind == config::SecretKind::managed_identity;
  auto grant = read_token_grant(response.body, "tenant \"" + tenant_.name + "\": token response ",
                                managed ? std::optional(started_utc) : std::nullopt);
  // Measured from when the request left, so a slow answer errs on the early side.
  const auto lifetime = grant.expires_in;
  cached_ = Cached{std::move(grant.access_token), started + lifetime - refresh_margin(lifetime), started + lifetime};
  log::info("token_acquired", {{"tenant", tenant_.name}, {"expires_in_s", lifetime.count()}});
}

std::string TokenSource::token() {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now_steady();
  if (cached_ && now < cached_->renew_at) return cached_->access_token;
  if (!cached_ || now >= cached_->expires_at) {
    fetch();
    return cached_->access_token;
  }
  // Renewing early: a passing outage must not fail requests while the cached
  // token is still good. Rejected credentials still surface at once.
  try {
    fetch();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::transient && e.kind() != ErrorKind::throttled) throw;
    log::warn("token_renewal_deferred", {{"tenant", tenant_.name}, {"error", e.what()}});
  }
  return cached_->access_token;
}

void TokenSource::invalidate() {
  std::lock_guard lock(mutex_);
  cached_.reset();
}

}  // namespace mdesync::auth
