// The http section, and the proxy it names or the environment does.
//
// http.proxy wins; without it the conventional variables are used, lower case
// first (as curl and Python do): https_proxy, HTTPS_PROXY; no_proxy, NO_PROXY.
// `http.proxy: none` ignores them. Only https:// is ever proxied (plain http://
// goes to loopback only), so http_proxy and ALL_PROXY are not consulted.
#include <cstdlib>

#include "config/expand.hpp"
#include "config/sections.hpp"
#include "core/url.hpp"

namespace mdesync::config::detail {
namespace {

constexpr const char* proxy_variables[] = {"https_proxy", "HTTPS_PROXY"};
constexpr const char* no_proxy_variables[] = {"no_proxy", "NO_PROXY"};
constexpr const char* proxy_shape = "http://[user@]host:port";

struct ParsedProxy {
  std::string host;
  std::uint16_t port = 80;
  std::string user;
  std::string password;
  bool has_password = false;
};

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int value = 0;
    for (std::size_t k = i + 1; k <= i + 2; ++k) {
      const char c = text[k];
      const int digit = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : -1;
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    out += static_cast<char>(value);
    i += 2;
  }
  for (const char c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  return out;
}

// "http://[user[:password]@]host[:port][/]". `scheme_optional`: the environment's
// "proxy:3128" means http, as everywhere else. `why` never quotes the user info.
std::optional<ParsedProxy> parse_proxy_url(std::string_view text, bool scheme_optional, std::string& why) {
  for (const char c : text)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      why = "must not contain whitespace or control characters";
      return std::nullopt;
    }
  std::string_view rest = text;
  if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
    std::string scheme(rest.substr(0, sep));
    for (auto& c : scheme)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (scheme == "https") {
      why = "https:// proxies (TLS to the proxy) are not supported; use http://host:port: what goes through the "
            "tunnel is TLS to the real host all the same";
      return std::nullopt;
    }
    if (scheme != "http") {
      why = "the proxy must be an HTTP proxy (" + std::string(proxy_shape) + "), got a " + scheme + ":// URL";
      return std::nullopt;
    }
    rest.remove_prefix(sep + 3);
  } else if (!scheme_optional) {
    why = "must look like " + std::string(proxy_shape);
    return std::nullopt;
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    why = "must be " + std::string(proxy_shape) + " without a path";
    return std::nullopt;
  }
  ParsedProxy out;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto info = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    const auto colon = info.find(':');
    const auto user = percent_decode(info.substr(0, colon));
    if (!user || user->empty()) {
      why = "has a user part that is empty or not valid percent-encoding";
      return std::nullopt;
    }
    out.user = *user;
    if (colon != std::string_view::npos) {
      const auto password = percent_decode(info.substr(colon + 1));
      if (!password) {
        why = "has a password that is not valid percent-encoding";
        return std::nullopt;
      }
      out.password = *password;
      out.has_password = true;
    }
  }
  // host[:port] as every URL we read it (core/url.hpp); a proxy without a port is on 80.
  UrlProblem problem{};
  const auto authority = parse_authority(rest, &problem);
  if (!authority) {
    why = problem == UrlProblem::port ? "has an invalid port (1..65535)"
                                      : "has no valid host (" + std::string(proxy_shape) + ")";
    return std::nullopt;
  }
  out.host = authority->host;
  out.port = authority->port.value_or(80);
  return out;
}

void read_proxy(const YAML::Node& v, const Where& at, HttpOptions& out, Problems& problems) {
  ProxyOptions& proxy = out.proxy;
  proxy.source = "http.proxy";
  if (v.Scalar() == "none") return;  // host stays empty: direct, whatever the environment says
  std::string why;
  const auto parsed = parse_proxy_url(v.Scalar(), false, why);
  if (parsed && parsed->has_password)
    // Not echoed: the value holds the password.
    return problems.add(at, "inline passwords are not accepted; write http://USER@host:port and put the password "
                            "in http.proxy_password_file or http.proxy_password_env");
  if (!parsed) {
    // The value is echoed only when it holds no user info (which may be a password).
    const bool has_user_info = v.Scalar().find('@') != std::string::npos;
    return problems.add(at, why + (has_user_info ? "" : ", got " + describe(v)) + " (or none)");
  }
  proxy.host = parsed->host;
  proxy.port = parsed->port;
  proxy.user = parsed->user;
}

std::string first_set(std::span<const char* const> names, std::string* value) {
  for (const char* name : names) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') {
      if (value) *value = v;
      return name;
    }
  }
  return {};
}

}  // namespace

std::span<const Key<HttpOptions>> http_keys() {
  using S = HttpOptions;
  static const Key<S> keys[] = {
      path_key<S>("ca_file", &S::ca_file, check_readable_file),
      duration_key<S>("timeout", &S::timeout, false),
      {"proxy", Shape::scalar, "a string", false, read_proxy},
      path_key<S>("proxy_password_file", [](S& h) -> std::string& { return h.proxy.password_file; }),
      string_key<S>(
          "proxy_password_env", [](S& h) -> std::string& { return h.proxy.password_env; }, false, check_env_name),
      {"no_proxy", Shape::scalar, "a string", false,
       [](const YAML::Node& v, const Where&, S& out, Problems&) {
         out.proxy.no_proxy = v.Scalar();
         out.proxy.no_proxy_source = "http.no_proxy";
       }},
  };
  return keys;
}

void read_http(const YAML::Node& node, const Where& at, HttpOptions& out, Problems& problems) {
  const Given given = read_section(node, at, http_keys(), out, problems);
  const auto line = [&](const char* key) { return given.find(key)->second; };
  const bool file = given.contains("proxy_password_file");
  const bool env = given.contains("proxy_password_env");
  if (file && env)
    problems.add(at.key("proxy_password_env", line("proxy_password_env")),
                 "give either proxy_password_file or proxy_password_env, not both");
  if ((file || env) && !given.contains("proxy"))
    problems.add(at.key(file ? "proxy_password_file" : "proxy_password_env",
                        line(file ? "proxy_password_file" : "proxy_password_env")),
                 "needs http.proxy with the user (http://USER@host:port)");
  else if ((file || env) && out.proxy.enabled() && out.proxy.user.empty())
    problems.add(at.key("proxy", line("proxy")),
                 "names no user, but a proxy password is given; write http://USER@host:port");
  else if (out.proxy.enabled() && !out.proxy.user.empty() && !file && !env)
    problems.add(at.key("proxy", line("proxy")),
                 "names user " + out.proxy.user + " but no password: give http.proxy_password_file or "
                 "http.proxy_password_env");
}

void resolve_proxy_environment(const Where& at, ProxyOptions& proxy, Problems& problems) {
  if (proxy.no_proxy_source.empty()) proxy.no_proxy_source = first_set(no_proxy_variables, &proxy.no_proxy);
  std::string value;
  const std::string variable = first_set(proxy_variables, &value);
  if (!proxy.source.empty()) {
    if (!proxy.enabled()) proxy.ignored = variable;  // http.proxy: none
    return;
  }
  if (variable.empty()) return;
  std::string why;
  const auto parsed = parse_proxy_url(value, true, why);
  if (!parsed)
    // Never the value: it may carry a password.
    return problems.add(at.key("http.proxy", at.line),
                        "not set, and " + variable + " in the environment " + why +
                            "; fix the variable, or set http.proxy (none ignores it)");
  proxy.source = variable;
  proxy.host = parsed->host;
  proxy.port = parsed->port;
  proxy.user = parsed->user;
  proxy.password_from_url = parsed->password;
}

}  // namespace mdesync::config::detail

namespace mdesync::config {

std::string ProxyOptions::display() const {
  if (!enabled()) return "none";
  const std::string shown_host = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return "http://" + (user.empty() ? std::string() : user + "@") + shown_host + ":" + std::to_string(port);
}

}  // namespace mdesync::config
