#include "auth/token_error.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include "auth/flat_json.hpp"
#include "core/classify.hpp"
#include "core/log.hpp"
#include "core/quote.hpp"

namespace mdesync::auth {
namespace {

constexpr std::size_t max_description = 400;

constexpr const char* fix_secret = "check the client secret (client_secret_file / client_secret_env)";
constexpr const char* fix_certificate =
    "check certificate_file/private_key_file and that the certificate is uploaded to the app registration";
constexpr const char* fix_client_id = "check client_id and that the app is registered in tenant_id";
constexpr const char* fix_tenant = "check tenant_id";

// Documented AADSTS codes we have seen for misconfigured daemons, and their fix.
struct KnownCode {
  std::int64_t code;
  const char* fix;
};
constexpr KnownCode known_codes[] = {
    {7000215, fix_secret},  // invalid client secret
    {7000222, "the client secret has expired; create a new one and update client_secret_file / client_secret_env"},
    {700016, fix_client_id},  // application not found in the directory
    {90002, fix_tenant},      // tenant not found
    {900023, fix_tenant},     // tenant identifier is malformed
    {90023, fix_tenant},      // tenant identifier is not valid
    {700027, fix_certificate},  // client assertion failed signature validation
    {700023, fix_certificate},  // client assertion audience/issuer invalid
    {700024, "the client assertion is outside its validity window; check this host's clock (NTP)"},
    {70011, "check scope (it must end in /.default for this flow)"},
    {500011, "check scope and that Microsoft Defender for Endpoint is enabled in tenant_id with admin consent "
             "granted to the app"},
    {7000112, "the application is disabled in tenant_id; enable it"},
};

std::optional<std::int64_t> code_in_description(std::string_view text) {
  const auto at = text.find("AADSTS");
  if (at == std::string_view::npos) return std::nullopt;
  std::int64_t code = 0;
  std::size_t i = at + 6;
  const std::size_t start = i;
  while (i < text.size() && i - start < 10 && text[i] >= '0' && text[i] <= '9') code = code * 10 + (text[i++] - '0');
  if (i == start) return std::nullopt;
  return code;
}

// One line, no "AADSTS123: " prefix (the code is shown separately), bounded,
// and nothing the caller asked to hide. Whitespace runs become one space; any
// other control character, and bytes that are not UTF-8 (a Retry-After header
// is raw bytes), are escaped by append_token, which also cuts at a character
// boundary.
std::string clean_description(std::string text, std::initializer_list<std::string_view> never_show) {
  text = log::redact(std::move(text), never_show);
  if (text.rfind("AADSTS", 0) == 0) {
    const auto colon = text.find(": ");
    if (colon != std::string::npos && colon < 16) text.erase(0, colon + 2);
  }
  std::string line;
  for (const char c : text) {
    if (c == ' ' || c == '\r' || c == '\n' || c == '\t') {
      if (!line.empty() && line.back() != ' ') line += ' ';
    } else {
      line += c;
    }
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  // Again: folding whitespace may have spelled out a secret that holds a space.
  line = log::redact(std::move(line), never_show);
  std::string out;
  append_token(out, line, max_description);
  return out;
}

constexpr const char* fix_managed_identity =
    "check that this VM or app has a managed identity (system-assigned, or the user-assigned one "
    "managed_identity_client_id names, assigned to it) and that it may get tokens for scope's resource; see README, "
    "Running on Azure without secrets";
constexpr const char* fix_federated =
    "check the federated credential on the app registration client_id names: issuer (the cluster's OIDC issuer URL), "
    "subject (system:serviceaccount:NAMESPACE:SERVICEACCOUNT) and audience api://AzureADTokenExchange must match "
    "the token in AZURE_FEDERATED_TOKEN_FILE";

// Codes Entra answers a federated assertion with.
constexpr KnownCode federated_codes[] = {
    {70021, fix_federated},   // no matching federated identity record
    {700211, fix_federated},  // issuer
    {700212, fix_federated},  // audience
    {700213, fix_federated},  // subject
    {700024, "the federated token in AZURE_FEDERATED_TOKEN_FILE has expired or is not valid yet; check that the "
             "pod's projected service account token is being renewed (and this host's clock)"},
    {700027, fix_federated},
};

const char* fix_for(const config::TenantOptions& tenant, const std::string& error, std::optional<std::int64_t> code) {
  using config::SecretKind;
  if (tenant.secret.kind == SecretKind::managed_identity) return fix_managed_identity;
  if (code && tenant.secret.kind == SecretKind::workload_identity)
    for (const auto& known : federated_codes)
      if (known.code == *code) return known.fix;
  if (code)
    for (const auto& known : known_codes)
      if (known.code == *code) return known.fix;
  if (tenant.secret.kind == SecretKind::workload_identity && error == "invalid_client") return fix_federated;
  const bool certificate = tenant.secret.kind == config::SecretKind::certificate;
  if (error == "invalid_client") return certificate ? fix_certificate : fix_secret;
  if (error == "unauthorized_client") return fix_client_id;
  if (error == "invalid_scope") return "check scope";
  return nullptr;
}

}  // namespace

Error token_error(const config::TenantOptions& tenant, int status, std::string_view body,
                  const std::optional<std::string>& retry_after, std::initializer_list<std::string_view> never_show) {
  // 4xx from the token endpoint are about the credentials (AADSTS codes say
  // which). IMDS answers 404 while it is updating and 410 while a VM starts,
  // and asks to be retried (Azure's documentation for managed identities).
  const bool managed = tenant.secret.kind == config::SecretKind::managed_identity;
  const bool identity_not_ready = managed && (status == 404 || status == 410);
  const auto kind = status == 429                                    ? ErrorKind::throttled
                    : classify_http_status(status) == Recovery::retry ? ErrorKind::transient
                    : identity_not_ready                              ? ErrorKind::transient
                    : status < 500                                    ? ErrorKind::auth
                                                                      : ErrorKind::fatal;
  std::string message = "tenant \"" + tenant.name + "\": " + (managed ? "managed identity " : "") +
                        "token request failed (HTTP " + std::to_string(status);
  const auto json = FlatJson::parse(body);
  const std::string error = json ? json->string("error").value_or("") : "";
  // App Service's identity endpoint says {"statusCode":400,"message":"..."}.
  const std::string description =
      json ? json->string("error_description").value_or(json->string("message").value_or("")) : "";
  std::optional<std::int64_t> code;
  if (json)
    if (const auto codes = json->integers("error_codes"); !codes.empty()) code = codes.front();
  if (!code) code = code_in_description(description);

  if (!error.empty()) message += ", " + clean_description(error, never_show);
  if (code) message += ", AADSTS" + std::to_string(*code);
  message += ")";
  if (!description.empty()) message += ": " + clean_description(description, never_show);

  if (kind == ErrorKind::throttled) {
    message += "; the token endpoint is throttling";
    if (retry_after) message += ", retry after " + clean_description(*retry_after, never_show) + " s";
  } else if (kind == ErrorKind::auth) {
    if (const char* fix = fix_for(tenant, error, code))
      message += std::string("; ") + fix;
    else if (!json)
      message += "; check token_url (the response is not an OAuth error)";
  }
  return Error(kind, message);
}

}  // namespace mdesync::auth
