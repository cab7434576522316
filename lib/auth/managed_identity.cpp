#include "auth/managed_identity.hpp"

#include "core/url.hpp"

namespace mdesync::auth {
namespace {

constexpr const char* imds_api_version = "2018-02-01";
constexpr const char* app_service_api_version = "2019-08-01";
constexpr std::string_view default_suffix = "/.default";

}  // namespace

std::string identity_resource(const std::string& scope) {
  if (scope.ends_with(default_suffix)) return scope.substr(0, scope.size() - default_suffix.size());
  return scope;
}

http::Request managed_identity_request(const config::TenantOptions& tenant, const std::string& identity_header) {
  const auto& secret = tenant.secret;
  const bool imds = secret.identity_protocol == config::IdentityProtocol::imds;
  http::Request request;
  request.method = "GET";
  request.url = secret.identity_endpoint;
  request.url += secret.identity_endpoint.find('?') == std::string::npos ? '?' : '&';
  request.url += std::string("api-version=") + (imds ? imds_api_version : app_service_api_version);
  request.url += "&resource=" + percent_encode(identity_resource(tenant.scope));
  // Without client_id the endpoint answers for the system-assigned identity.
  if (!secret.managed_identity_client_id.empty())
    request.url += "&client_id=" + percent_encode(secret.managed_identity_client_id);
  request.headers = {{"Accept", "application/json"}};
  if (imds)
    request.headers.emplace_back("Metadata", "true");
  else
    request.headers.emplace_back("X-IDENTITY-HEADER", identity_header);
  return request;
}

}  // namespace mdesync::auth
