// The token endpoint and the paged JSON data endpoints.
#include <algorithm>

#include "client_assertion.hpp"
#include "json_writer.hpp"
#include "paging.hpp"
#include "service.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view jwt_bearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::string_view odata_content_type =
    "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8";

// "Bearer <token>" (scheme case-insensitive) -> token; empty when absent or another scheme.
std::string bearer_token(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  if (header.size() < 7 || !iequals(header.substr(0, 6), "bearer") || header[6] != ' ') return {};
  header.remove_prefix(7);
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  return std::string(header);
}

}  // namespace

HttpResponse Service::handle_token(const HttpRequest& req, std::string_view tenant_id, Context& ctx) {
  Tenant* tenant = find_tenant(tenant_id);
  if (!tenant)
    return aad_error(400, "invalid_request", 90002,
                     "Tenant '" + std::string(tenant_id) +
                         "' not found. Check to make sure you have the correct tenant ID and are signing into the "
                         "correct cloud. Check with your subscription administrator, this may happen if there are "
                         "no active subscriptions for the tenant.");
  ctx.tenant = tenant->id;
  if (req.method != "POST")
    return aad_error(400, "invalid_request", 900561,
                     "The endpoint only accepts POST requests. Received a " + req.method + " request.");
  const auto form = Params::parse(req.body);
  const auto missing = [&](std::string_view name) {
    return aad_error(400, "invalid_request", 900144,
                     "The request body must contain the following parameter: '" + std::string(name) + "'.");
  };
  if (!form) return missing("grant_type");

  const std::string* grant = form->find("grant_type");
  if (!grant) return missing("grant_type");
  if (*grant != "client_credentials")
    return aad_error(400, "unsupported_grant_type", 70003,
                     "The app requested an unsupported grant type '" + *grant + "'.");
  const std::string* client_id = form->find("client_id");
  if (!client_id) return missing("client_id");
  if (*client_id != config_.client_id)
    return aad_error(400, "unauthorized_client", 700016,
                     "Application with identifier '" + *client_id + "' was not found in the directory '" +
                         tenant->id +
                         "'. This can happen if the application has not been installed by the administrator of "
                         "the tenant or consented to by any user in the tenant. You may have sent your "
                         "authentication request to the wrong tenant.");
  const std::string* scope = form->find("scope");
  if (!scope) return missing("scope");
  if (*scope != config_.expected_scope)
    return aad_error(400, "invalid_scope", 70011,
                     "The provided request must include a 'scope' input parameter. The provided value for the "
                     "input parameter 'scope' is not valid. The scope " +
                         *scope + " is not valid.");

  const std::string* secret = form->find("client_secret");
  const std::string* assertion = form->find("client_assertion");
  if (!secret && !assertion) return missing("client_assertion' or 'client_secret");
  if (secret) {
    if (std::find(config_.client_secrets.begin(), config_.client_secrets.end(), *secret) ==
        config_.client_secrets.end())
      return aad_error(401, "invalid_client", 7000215,
                       "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                       "secret value, not the client secret ID, for a secret added to app '" +
                           *client_id + "'.");
  } else {
    const std::string* type = form->find("client_assertion_type");
    if (!type) return missing("client_assertion_type");
    if (*type != jwt_bearer)
      return aad_error(400, "invalid_request", 900144,
                       "The request body must contain the following parameter: 'client_assertion_type' with the "
                       "value '" + std::string(jwt_bearer) + "'.");
    // A federated assertion names its OIDC issuer; a certificate one, the client.
    if (const auto issuer = unverified_issuer(*assertion); federated_issuer_ && issuer && *issuer != *client_id) {
      if (auto refusal = check_federated(*assertion)) return std::move(*refusal);
      return issue_token(*tenant);
    }
    if (!config_.client_certificate)
      return aad_error(401, "invalid_client", 700027,
                       "Client assertion failed signature validation. [Reason - The key was not found.]");
    // The audience is the token URL as this client addressed it.
    AssertionExpectations expect;
    expect.audience = base_url(req) + "/" + std::string(tenant_id) + std::string("/oauth2/v2.0/token");
    expect.client_id = *client_id;
    expect.now = clock_.now_utc();
    const std::string why = verify_client_assertion(*assertion, *config_.client_certificate, expect);
    if (!why.empty())
      return aad_error(401, "invalid_client", 700027, "Client assertion failed validation. [Reason - " + why + "]");
  }

  return issue_token(*tenant);
}

HttpResponse Service::issue_token(Tenant& tenant) {
  const std::string token = tokens_.issue(tenant.id, config_.token_lifetime, clock_.now_steady());
  stats_.token_issued(tenant.id);
  std::string body;
  json::Writer w(body);
  const auto lifetime = static_cast<std::int64_t>(config_.token_lifetime.count());
  w.begin_object()
      .field("token_type", "Bearer")
      .field("expires_in", lifetime)
      .field("ext_expires_in", lifetime)
      .field("access_token", token)
      .end_object();
  HttpResponse r = json(200, std::move(body));
  r.set("Cache-Control", "no-store, no-cache");
  r.set("Pragma", "no-cache");
  return r;
}

HttpResponse Service::handle_data(const HttpRequest& req, const Params& query, model::Dataset dataset,
                                  bool export_call, Context& ctx) {
  ctx.gzip_ok = true;
  if (req.method != "GET") {
    HttpResponse r = api_error(405, "MethodNotAllowed", "The requested resource does not support http method '" +
                                                            req.method + "'.");
    r.set("Allow", "GET");
    return r;
  }
  const std::string token = bearer_token(req.authorization);
  if (token.empty()) return unauthorized("Authorization has been denied for this request.", false);
  const FaultSettings faults = faults_.settings();
  const TokenCheck check = tokens_.check(token, clock_.now_steady(), faults.token_expire_after_pages);
  switch (check.state) {
    case TokenState::valid: break;
    case TokenState::unknown: return unauthorized("The access token is invalid.", true);
    case TokenState::expired: return unauthorized("The access token has expired.", true);
    case TokenState::exhausted:
      stats_.fault("token_expired");
      return unauthorized("The access token has expired.", true);
  }
  Tenant* tenant = find_tenant(check.tenant);
  if (!tenant) return unauthorized("The access token is invalid.", true);
  ctx.tenant = tenant->id;
  if (config_.no_permission)
    return api_error(403, "Forbidden",
                     "Missing application roles. API required roles: Software.Read.All. Application roles: "
                     "Machine.Read.All.");

  const Family family = export_call ? Family::exports : Family::json;
  if (auto throttled = admit(*tenant, family)) return std::move(*throttled);

  const Fault fault = faults_.draw();
  ctx.fault = fault;
  if (fault != Fault::none) stats_.fault(fault_name(fault));
  switch (fault) {
    case Fault::reset: {
      HttpResponse r;
      r.action = WireAction::reset;
      return r;
    }
    case Fault::error_5xx: {
      const unsigned status = faults_.draw_5xx_status();
      return status == 500 ? api_error(500, "InternalServerError", "An error has occurred.")
                           : api_error(503, "ServiceUnavailable", "The service is temporarily unavailable.");
    }
    case Fault::throttle_429: {
      stats_.throttled(tenant->id);
      note_retry_after(*tenant, family, faults.retry_after_s);
      HttpResponse r = api_error(429, "TooManyRequests", "Rate limit is exceeded. Try again in " +
                                                             std::to_string(faults.retry_after_s) + " seconds.");
      r.set("Retry-After", std::to_string(faults.retry_after_s));
      return r;
    }
    default: break;
  }

  HttpResponse r = export_call ? handle_export(req, query, *tenant, dataset) : handle_page(req, query, *tenant, dataset);
  if (r.status == 200 && !export_call) tokens_.count_page(token);
  if (fault == Fault::malformed && r.status == 200) {
    // What a proxy's error page spliced into a response looks like to a JSON parser.
    r.body.resize(r.body.size() / 2);
    r.body += "<html><head><title>502 Bad Gateway</title></head></html>";
  }
  if (fault == Fault::html && r.status == 200) {
    // A captive portal or proxy login page: a 200 that is not the API's answer at all.
    r.body = "<!DOCTYPE html><html><head><title>Sign in to continue</title></head><body>Proxy login</body></html>";
    r.set("Content-Type", "text/html; charset=utf-8");
  }
  if (fault == Fault::slow) r.delay = std::chrono::milliseconds(faults.slow_ms);
  return r;
}

HttpResponse Service::handle_page(const HttpRequest& req, const Params& query, Tenant& tenant, model::Dataset dataset) {
  const auto injected = injections_.get(tenant.id, dataset);
  const std::string* skiptoken = query.find("$skiptoken");
  const auto injected_index = skiptoken ? parse_injected_skiptoken(*skiptoken) : std::nullopt;
  // The rest of an injected page's request is checked as usual.
  const PageRequestOrError parsed =
      parse_page_request(injected_index ? without_param(query, "$skiptoken") : query, dataset);
  if (!parsed.request) return api_error(400, "BadRequest", parsed.error);
  if (injected_index && *injected_index >= injected.size()) return api_error(400, "BadRequest", "Invalid $skiptoken.");
  Page page;
  if (injected_index) {
    page.body = injected_page_body(injected, *injected_index, dataset, base_url(req), parsed.request->page_size);
  } else {
    std::shared_lock lock(tenant.data_mutex);
    page = write_page(*tenant.data, *tenant.writer, dataset, *parsed.request, base_url(req), config_.next_link_base);
    if (!page.has_more && !parsed.request->top && !injected.empty())
      append_next_link(page.body, injected_page_link(base_url(req), dataset, parsed.request->page_size, 0));
  }
  HttpResponse r = json(200, std::move(page.body));
  r.set("Content-Type", std::string(odata_content_type));
  r.set("OData-Version", "4.0");
  return r;
}

}  // namespace mdesync::fakeapi
