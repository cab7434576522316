#include "api/proxy_report.hpp"

#include <vector>

#include "api/client_options.hpp"
#include "core/error.hpp"
#include "core/url.hpp"

namespace mdesync::api {
namespace {

void add_once(std::vector<std::string>& list, const std::string& item) {
  for (const auto& existing : list)
    if (existing == item) return;
  list.push_back(item);
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "host:port", the port always shown: NO_PROXY rules may name it.
std::string host_port(const Url& url) {
  return (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" + url.port;
}

}  // namespace

ProxyReport proxy_report(const config::Config& cfg, const std::string& only_tenant) {
  const auto& settings = cfg.http.proxy;
  ProxyReport report;
  if (!settings.enabled()) {
    report.detail = "none, every connection is direct";
    if (!settings.ignored.empty())
      report.detail += " (http.proxy: none; " + settings.ignored + " in the environment is ignored)";
    return report;
  }
  const auto options = client_options(cfg.http);
  const http::Proxy& proxy = *options.proxy;
  std::vector<std::string> through, direct, local;
  for (const auto& tenant : cfg.tenants) {
    if (!only_tenant.empty() && tenant.name != only_tenant) continue;
    if (tenant.secret.kind == config::SecretKind::managed_identity)
      add_once(local, host_port(Url::parse(tenant.secret.identity_endpoint)));
    else
      add_once(proxy.carries(Url::parse(tenant.token_url)) ? through : direct,
               host_port(Url::parse(tenant.token_url)));
    const auto api = Url::parse(tenant.api_url);
    add_once(proxy.carries(api) ? through : direct, host_port(api));
  }
  report.detail = settings.display() + " (" + settings.source + ")";
  if (!settings.user.empty()) {
    const std::string from = !settings.password_file.empty() ? "http.proxy_password_file"
                             : !settings.password_env.empty() ? "http.proxy_password_env " + settings.password_env
                                                              : settings.source;
    report.detail += ", password from " + from;
  }
  report.detail += " for " + (through.empty() ? std::string("no configured host") : joined(through)) +
                   ", and for the storage hosts export answers name unless no_proxy lists them";
  if (!direct.empty()) report.detail += "; direct: " + joined(direct);
  if (!local.empty()) report.detail += "; managed identity endpoint " + joined(local) + ": direct, never proxied";
  if (!settings.no_proxy_source.empty())
    report.detail += "; no_proxy (" + settings.no_proxy_source + "): " +
                     (proxy.bypass.empty() ? std::string("no usable rule") : proxy.bypass.describe());
  if (!settings.user.empty()) {
    try {
      (void)proxy.password();
    } catch (const Error& e) {
      report.ok = false;
      report.detail += "; the password cannot be read: " + std::string(e.what());
    }
  }
  return report;
}

std::string network_fix(const config::Config& cfg, const std::string& url) {
  const auto parsed = Url::parse(url);
  const auto options = client_options(cfg.http);
  if (options.proxy && options.proxy->carries(parsed))
    return "check that proxy " + options.proxy->authority() + " (" + cfg.http.proxy.source + ") can reach " +
           parsed.origin() + " and lets this machine through, and that http.ca_file is set if a private CA (or the "
           "proxy, inspecting TLS) signs its certificate";
  return "check that this machine can reach " + parsed.origin() +
         " (DNS, firewall, proxy) and that http.ca_file is set if a private CA signs its certificate";
}

}  // namespace mdesync::api
