// The tenants section: the tenant key table, the rules that span keys, and the
// endpoints derived from cloud and region.
#include <set>

#include "config/expand.hpp"
#include "config/sections.hpp"

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

std::optional<std::string> check_env_name(const std::string& text) {
  bool ok = !text.empty() && !(text[0] >= '0' && text[0] <= '9');
  for (const char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) ok = false;
  if (ok) return std::nullopt;
  return "must be an environment variable name, got " + shown(text);
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

void refuse_inline_secret(const YAML::Node&, const Where& at, TenantOptions&, Problems& problems) {
  // The value is never echoed: it is the secret.
  problems.add(at, "inline secrets are not accepted; use client_secret_file or client_secret_env");
}

std::span<const Key<TenantOptions>> tenant_keys() {
  using S = TenantOptions;
  static const Key<S> keys[] = {
      string_key<S>("name", &S::name, true, check_name),
      string_key<S>("tenant_id", &S::tenant_id, true, check_tenant_id),
      string_key<S>("client_id", &S::client_id, true, check_client_id),
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
  };
  return keys;
}

// Exactly one way to authenticate, so nobody wonders which one is in use.
void check_secret_source(const Given& given, const Where& at, TenantOptions& t, Problems& problems) {
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
    problems.add(
        at, "needs a secret source: client_secret_file, client_secret_env, or certificate_file with private_key_file");
  } else if (sources > 1) {
    std::vector<std::string_view> present;
    for (const auto k : secret_keys)
      if (given.contains(k)) present.push_back(k);
    problems.add(at,
                 "give exactly one secret source (client_secret_file, client_secret_env, or certificate_file with "
                 "private_key_file), got " +
                     list_names(present));
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
    check_secret_source(given, here, t, problems);
    check_region_cloud(given, here, t, problems);
    derive_endpoints(t);
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
