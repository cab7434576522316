// Azure managed identity (IMDS, App Service's endpoint) and workload identity
// (federated client assertions at the token endpoint), as Azure answers them.
#include <algorithm>

#include "json_writer.hpp"
#include "service.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view imds_api_version = "2018-02-01";
constexpr std::string_view app_service_api_version = "2019-08-01";

std::string without_default_suffix(std::string_view scope) {
  constexpr std::string_view suffix = "/.default";
  if (scope.ends_with(suffix)) scope.remove_suffix(suffix.size());
  return std::string(scope);
}

}  // namespace

HttpResponse Service::handle_identity(const HttpRequest& req, const Params& query, bool imds, Context& ctx) {
  // IMDS speaks OAuth's error shape; App Service its own.
  const auto refuse = [&](unsigned status, std::string_view error, const std::string& description) {
    std::string body;
    json::Writer w(body);
    w.begin_object();
    if (imds)
      w.field("error", error).field("error_description", description);
    else
      w.field("statusCode", static_cast<std::int64_t>(status)).field("message", description).field(
          "correlationId", random_guid());
    w.end_object();
    return json(status, std::move(body));
  };
  Tenant* tenant = find_tenant(config_.tenants.front());
  ctx.tenant = tenant->id;
  if (req.method != "GET") return refuse(405, "invalid_request", "The request method must be GET.");
  if (imds) {
    if (req.forwarded) return refuse(400, "invalid_request", "Requests through a proxy are not accepted.");
    if (req.metadata != "true") return refuse(400, "invalid_request", "Required metadata header not specified");
  } else if (req.identity_header != config_.identity.identity_header) {
    return refuse(403, "invalid_request", "The X-IDENTITY-HEADER header is missing or does not match.");
  }
  const std::string* version = query.find("api-version");
  if (!version) return refuse(400, "invalid_request", "Required query variable 'api-version' is missing");
  if (*version != (imds ? imds_api_version : app_service_api_version))
    return refuse(400, "invalid_request", "Invalid api-version '" + *version + "'.");
  const std::string* resource = query.find("resource");
  if (!resource) return refuse(400, "invalid_request", "Required audience parameter not specified");
  const std::string expected = without_default_suffix(config_.expected_scope);
  if (*resource != expected && *resource != expected + "/")
    return refuse(400, "invalid_resource",
                  "AADSTS500011: The resource principal named " + *resource + " was not found in the tenant named " +
                      tenant->id + ".");

  const auto& identity = config_.identity;
  std::string client_id;
  if (const std::string* asked = query.find("client_id")) {
    if (std::find(identity.user_assigned.begin(), identity.user_assigned.end(), *asked) == identity.user_assigned.end())
      return refuse(400, "invalid_request", "Identity not found");
    client_id = *asked;
  } else if (identity.system_assigned) {
    client_id = "system-assigned";
  } else if (identity.user_assigned.size() == 1) {
    client_id = identity.user_assigned.front();
  } else {
    return refuse(400, "invalid_request",
                  identity.user_assigned.empty()
                      ? "Identity not found"
                      : "Multiple user assigned identities exist, please specify the clientId / resourceId of the "
                        "identity in the token request");
  }
  if (identity_denied_.load())
    return refuse(403, "access_denied", "The resource owner or authorization server denied the request.");

  const std::string token = tokens_.issue(tenant->id, config_.token_lifetime, clock_.now_steady());
  stats_.token_issued(tenant->id);
  const auto now = to_unix_seconds(clock_.now_utc());
  const auto lifetime = static_cast<std::int64_t>(config_.token_lifetime.count());
  std::string body;
  json::Writer w(body);
  // Numbers as strings, as both services send them; App Service sends no expires_in.
  w.begin_object().field("access_token", token).field("client_id", client_id);
  if (imds) w.field("expires_in", std::to_string(lifetime)).field("ext_expires_in", std::to_string(lifetime));
  w.field("expires_on", std::to_string(now + lifetime));
  if (imds) w.field("not_before", std::to_string(now));
  w.field("resource", *resource).field("token_type", "Bearer").end_object();
  return json(200, std::move(body));
}

std::optional<HttpResponse> Service::check_federated(std::string_view assertion) {
  const auto verdict = federated_issuer_->verify(assertion, config_.federation.issuer, config_.federation.subject,
                                                 clock_.now_utc());
  if (verdict.code == 0) return std::nullopt;
  return aad_error(verdict.code == 50027 ? 400 : 401, "invalid_client", verdict.code, verdict.reason);
}

}  // namespace mdesync::fakeapi
