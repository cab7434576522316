#include "auth/token_source.hpp"

#include <fstream>
#include <sstream>

#include "auth/form.hpp"
#include "auth/jwt.hpp"
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
  for (const auto& [key, value] : {std::pair{"token_url", &tenant_.token_url},
                                   std::pair{"client_id", &tenant_.client_id}, std::pair{"scope", &tenant_.scope}})
    if (value->empty()) throw Error(ErrorKind::config, who(tenant_) + ": " + key + " is empty");
  if (tenant_.secret.kind == config::SecretKind::certificate) {
    client_secret_.clear();
    load_signer();  // fail now rather than at the first sync
  } else if (client_secret_.empty()) {
    throw Error(ErrorKind::config, who(tenant_) + ": no client secret given");
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

std::string TokenSource::client_assertion() {
  return load_signer()->sign(tenant_.token_url, tenant_.client_id, clock_.now_utc());
}

void TokenSource::fetch() {
  const bool certificate = tenant_.secret.kind == config::SecretKind::certificate;
  const std::string assertion = certificate ? client_assertion() : std::string();
  std::vector<std::pair<std::string_view, std::string_view>> fields{
      {"grant_type", "client_credentials"}, {"client_id", tenant_.client_id}, {"scope", tenant_.scope}};
  if (certificate) {
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

  const auto started = clock_.now_steady();
  const http::Response response = transport_.send(request);  // network errors propagate as they are
  // An endpoint that echoes the request echoes the form, so the secret comes back encoded too.
  if (response.status != 200)
    throw token_error(tenant_, response.status, response.body, response.header("Retry-After"),
                      {client_secret_, percent_encode(client_secret_), assertion});

  auto grant = read_token_grant(response.body, "tenant \"" + tenant_.name + "\": token response ");
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
