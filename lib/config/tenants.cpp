// The tenants section: the tenant key table, the rules that span keys, and the
// endpoints derived from cloud and region.
#include <cstdlib>
#include <set>

#include "config/expand.hpp"
#include "config/sections.hpp"
#include "core/url.hpp"

namespace mdesync::config::detail {
namespace {

constexpr std::string_view regions[] = {"us", "eu", "uk", "au"};

constexpr Choice<Cloud> cloud_choices[] = {
    {"commercial", Cloud::commercial}, {"gcc", Cloud::gcc}, {"gcc-high", Cloud::gcc_high}, {"dod", Cloud::dod}};
constexpr Choice<std::string_view> algorithm_choices[] = {{"RS256", "RS256"}, {"PS256", "PS256"}};

// The secret sources, in the order messages list them.
constexpr std::string_view secret_keys[] = {"client_secret_file", "client_secret_env", "certificate_file",
                                            "private_key_file"};

bool has_space(const std::string& text) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return true;
  return false;
}

std::string shown(const std::string& text) { return text.empty() ? "\"\"" : text; }

// Tenant names label metrics, log lines and rows, so they stay plain.
std::optional<std::string> check_name(const std::string& text) {
  bool ok = !text.empty() && text.size() <= 63;
  for (const char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) ok = false;
  if (ok) return std::nullopt;
  return "must match [a-z0-9_-]{1,63}, got " + shown(text);
}

// A GUID or a domain (contoso.onmicrosoft.com); it becomes a path segment of
// the token URL, so '/' would change which endpoint is asked.
std::optional<std::string> check_tenant_id(const std::string& text) {
  if (!text.empty() && !has_space(text) && text.find('/') == std::string::npos) return std::nullopt;
  return "must be a GUID or domain name without '/' or whitespace, got " + shown(text);
}

std::optional<std::string> check_client_id(const std::string& text) {
  if (!text.empty() && !has_space(text)) return std::nullopt;
  return "must not be empty or contain whitespace, got " + shown(text);
}

std::optional<std::string> check_region(const std::string& text) {
  for (const auto r : regions)
    if (r == text) return std::nullopt;
  return "must be one of " + list_names(regions) + ", got " + shown(text);
}

std::optional<std::string> check_url(const std::string& text) {
  std::string why;
  if (url_allowed(text, &why)) return std::nullopt;
  return why + ", got " + shown(text);
}

// Managed identity endpoints answer over plain http: on loopback (App Service,
// Container Apps) or at the link-local metadata address (IMDS), never elsewhere.
std::optional<std::string> check_identity_endpoint(const std::string& text) {
  std::string why;
  if (url_allowed(text, &why)) return std::nullopt;
  if (const auto url = Url::try_parse(text); url && url->is_instance_metadata()) return std::nullopt;
  return why + " or to the instance metadata address 169.254.169.254, got " + shown(text);
}

std::optional<std::string> check_scope(const std::string& text) {
  if (text.starts_with("https://") || text.starts_with("http://")) return std::nullopt;
  return "must start with https:// or http://, got " + shown(text);
}

void read_datasets(const YAML::Node& list, const Where& at, TenantOptions& out, Problems& problems) {
  if (list.size() == 0) return problems.add(at, "must list at least one of cpe, noncpe");
  std::vector<model::Dataset> datasets;
  bool ok = true;
  std::size_t i = 0;
  for (const auto& item : list) {
    const Where here = at.index(i++, line_of(item, at.line));
    const auto dataset = item.IsScalar() ? model::parse_dataset(item.Scalar()) : std::nullopt;
    if (!dataset) {
      problems.add(here, "must be one of cpe, noncpe, got " + describe(item));
      ok = false;
    } else if (std::find(datasets.begin(), datasets.end(), *dataset) != datasets.end()) {
      problems.add(here, item.Scalar() + " is listed twice");
      ok = false;
    } else {
      datasets.push_back(*dataset);
    }
  }
  if (ok) out.datasets = std::move(datasets);
}

constexpr Choice<SecretKind> auth_choices[] = {{"client_secret", SecretKind::file},
                                               {"certificate", SecretKind::certificate},
                                               {"managed_identity", SecretKind::managed_identity},
                                               {"workload_identity", SecretKind::workload_identity}};

void refuse_inline_secret(const YAML::Node&, const Where& at, TenantOptions&, Problems& problems) {
  // The value is never echoed: it is the secret.
  problems.add(at, "inline secrets are not accepted; use client_secret_file or client_secret_env");
}

std::span<const Key<TenantOptions>> tenant_keys() {
  using S = TenantOptions;
  static const Key<S> keys[] = {
      string_key<S>("name", &S::name, true, check_name),
      string_key<S>("tenant_id", &S::tenant_id, true, check_tenant_id),
      // Required unless auth: managed_identity (check_auth).
      string_key<S>("client_id", &S::client_id, false, check_client_id),
      enum_key<S>("auth", [](S& t) -> SecretKind& { return t.secret.kind; }, auth_choices),
      {"client_secret", Shape::any, "", false, refuse_inline_secret},
      path_key<S>("client_secret_file", [](S& t) -> std::string& { return t.secret.path; }),
      string_key<S>(
          "client_secret_env", [](S& t) -> std::string& { return t.secret.env; }, false, check_env_name),
      path_key<S>("certificate_file", [](S& t) -> std::string& { return t.secret.certificate_file; }),
      path_key<S>("private_key_file", [](S& t) -> std::string& { return t.secret.private_key_file; }),
      enum_key<S>("cloud", &S::cloud, cloud_choices),
      string_key<S>("region", &S::region, false, check_region),
      string_key<S>("api_url", &S::api_url, false, check_url),
      string_key<S>("token_url", &S::token_url, false, check_url),
      string_key<S>("scope", &S::scope, false, check_scope),
      {"datasets", Shape::sequence, "a sequence of cpe, noncpe", false, read_datasets},
      enum_key<S>("assertion_algorithm", &S::assertion_algorithm, algorithm_choices),
      string_key<S>(
          "managed_identity_client_id", [](S& t) -> std::string& { return t.secret.managed_identity_client_id; },
          false, check_client_id),
      string_key<S>(
          "managed_identity_endpoint", [](S& t) -> std::string& { return t.secret.identity_endpoint; }, false,
          check_identity_endpoint),
  };
  return keys;
}

const char* auth_name(SecretKind kind) {
  for (const auto& c : auth_choices)
    if (c.value == kind) return c.name.data();
  return "client_secret";  // file and env are both client_secret
}

// managed_identity and workload_identity: no secret key, and client_id only
// where it means something.
void check_secretless(const Given& given, const Where& at, SecretKind kind, Problems& problems) {
  const std::string with = std::string("does not apply with auth: ") + auth_name(kind);
  for (const auto k : secret_keys)
    if (const auto g = given.find(k); g != given.end()) problems.add(at.key(k, g->second), with + " (no secret is needed)");
  if (const auto alg = given.find("assertion_algorithm"); alg != given.end())
    problems.add(at.key("assertion_algorithm", alg->second), with);
  const auto client_id = given.find("client_id");
  if (kind == SecretKind::managed_identity && client_id != given.end())
    problems.add(at.key("client_id", client_id->second),
                 with + ": the token is the identity's own; name a user-assigned identity with "
                        "managed_identity_client_id");
  if (kind == SecretKind::workload_identity && client_id == given.end()) problems.add(at.key("client_id", at.line), "required");
}

// Exactly one way to authenticate, so nobody wonders which one is in use.
void check_auth(const Given& given, const Where& at, TenantOptions& t, Problems& problems) {
  const auto auth = given.find("auth");
  const bool secretless = auth != given.end() && (t.secret.kind == SecretKind::managed_identity ||
                                                   t.secret.kind == SecretKind::workload_identity);
  for (const char* k : {"managed_identity_client_id", "managed_identity_endpoint"})
    if (const auto g = given.find(k); g != given.end() && !(secretless && t.secret.kind == SecretKind::managed_identity))
      problems.add(at.key(k, g->second), "applies only with auth: managed_identity");
  if (secretless) return check_secretless(given, at, t.secret.kind, problems);
  if (!given.contains("client_id")) problems.add(at.key("client_id", at.line), "required");

  const bool file = given.contains("client_secret_file");
  const bool env = given.contains("client_secret_env");
  const bool cert = given.contains("certificate_file");
  const bool key = given.contains("private_key_file");
  if (cert && !key)
    problems.add(at.key("certificate_file", given.find("certificate_file")->second), "requires private_key_file");
  if (key && !cert)
    problems.add(at.key("private_key_file", given.find("private_key_file")->second), "requires certificate_file");

  const int sources = int(file) + int(env) + int(cert || key);
  if (sources == 0 && !given.contains("client_secret")) {
    problems.add(at, "needs a secret source: client_secret_file, client_secret_env, or certificate_file with "
                     "private_key_file (auth: managed_identity and auth: workload_identity need none)");
  } else if (sources > 1) {
    std::vector<std::string_view> present;
    for (const auto k : secret_keys)
      if (given.contains(k)) present.push_back(k);
    problems.add(at,
                 "give exactly one secret source (client_secret_file, client_secret_env, or certificate_file with "
                 "private_key_file), got " +
                     list_names(present));
  }
  if (auth != given.end() && sources == 1) {
    const bool asked_certificate = t.secret.kind == SecretKind::certificate;
    if (asked_certificate != (cert || key))
      problems.add(at.key("auth", auth->second),
                   asked_certificate ? "certificate needs certificate_file with private_key_file"
                                     : "client_secret needs client_secret_file or client_secret_env");
  }
  // Meaningful only with exactly one source; with more, loading fails anyway.
  if (file)
    t.secret.kind = SecretKind::file;
  else if (env)
    t.secret.kind = SecretKind::env;
  else if (cert || key)
    t.secret.kind = SecretKind::certificate;
  if (const auto alg = given.find("assertion_algorithm"); alg != given.end() && !(cert || key))
    problems.add(at.key("assertion_algorithm", alg->second),
                 "applies only to the certificate flow (certificate_file with private_key_file)");
}

// Where a managed identity asks: the configured endpoint (IMDS protocol), else
// what App Service and Container Apps announce (both variables set), else IMDS.
void derive_identity_endpoint(const Where& at, TenantOptions& t, Problems& problems) {
  if (t.secret.kind != SecretKind::managed_identity || !t.secret.identity_endpoint.empty()) return;
  const char* endpoint = std::getenv(identity_endpoint_env);
  const char* header = std::getenv(identity_header_env);
  if (endpoint == nullptr || *endpoint == '\0' || header == nullptr || *header == '\0') {
    t.secret.identity_endpoint = imds_token_url;
    return;
  }
  if (const auto why = check_identity_endpoint(endpoint))
    return problems.add(at.key("auth", at.line), std::string("managed_identity: ") + identity_endpoint_env +
                                                     " in the environment " + *why);
  t.secret.identity_endpoint = endpoint;
  t.secret.identity_protocol = IdentityProtocol::app_service;
}

void check_region_cloud(const Given& given, const Where& at, const TenantOptions& t, Problems& problems) {
  if (const auto region = given.find("region");
      region != given.end() && !t.region.empty() && t.cloud != Cloud::commercial)
    problems.add(at.key("region", region->second),
                 std::string("regional API hosts exist only in the commercial cloud, got cloud ") + to_string(t.cloud));
}

void derive_endpoints(TenantOptions& t) {
  if (t.api_url.empty()) t.api_url = default_api_url(t.cloud, t.region);
  // Paths are appended with a leading '/', so the base never ends in one.
  while (t.api_url.ends_with('/')) t.api_url.pop_back();
  if (t.token_url.empty()) t.token_url = default_token_url(t.cloud, t.tenant_id);
  if (t.scope.empty()) t.scope = default_scope(t.cloud);
}

}  // namespace

std::optional<std::string> check_env_name(const std::string& text) {
  bool ok = !text.empty() && !(text[0] >= '0' && text[0] <= '9');
  for (const char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) ok = false;
  if (ok) return std::nullopt;
  return "must be an environment variable name, got " + shown(text);
}

void read_tenants(const YAML::Node& list, const Where& at, std::vector<TenantOptions>& out, Problems& problems) {
  if (list.size() == 0) return problems.add(at, "must list at least one tenant");
  std::map<std::string, std::string> seen;  // name -> path of its first use
  std::size_t i = 0;
  for (const auto& item : list) {
    const Where here = at.index(i++, line_of(item, at.line));
    TenantOptions t;
    t.line = here.line;
    const Given given = read_section(item, here, tenant_keys(), t, problems);
    if (!item.IsMap()) continue;  // reported by read_section
    check_auth(given, here, t, problems);
    check_region_cloud(given, here, t, problems);
    derive_endpoints(t);
    derive_identity_endpoint(here, t, problems);
    if (!t.name.empty()) {
      const auto [first, inserted] = seen.emplace(t.name, here.path);
      if (!inserted)
        problems.add(here.key("name", given.find("name")->second),
                     "duplicate tenant name " + t.name + " (also " + first->second + ")");
    }
    out.push_back(std::move(t));
  }
}

}  // namespace mdesync::config::detail
