#include "core/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/error.hpp"
#include "core/log.hpp"

namespace mdesync {
namespace {

constexpr const char* instance_metadata_address = "169.254.169.254";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// inet_pton takes only the four-part dotted form, so "127.1" or "0x7f.0.0.1"
// are names, not addresses: what the resolver makes of them is checked at connect.
bool is_ipv4(const std::string& host, in_addr* out = nullptr) {
  in_addr a{};
  if (inet_pton(AF_INET, host.c_str(), &a) != 1) return false;
  if (out) *out = a;
  return true;
}

bool is_ipv6(const std::string& host, in6_addr* out = nullptr) {
  in6_addr a{};
  if (inet_pton(AF_INET6, host.c_str(), &a) != 1) return false;
  if (out) *out = a;
  return true;
}

bool valid_reg_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Digits only, 1..65535; at most five of them, so leading zeros cannot hide a
// long number ("08443" is 8443).
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::nullopt_t refuse(UrlProblem* problem, UrlProblem why) {
  if (problem) *problem = why;
  return std::nullopt;
}

const char* describe(UrlProblem problem) {
  switch (problem) {
    case UrlProblem::control_character: return "contains spaces or control characters";
    case UrlProblem::not_absolute: return "not an absolute URL (expected https://host/...)";
    case UrlProblem::scheme: return "unsupported scheme (expected https)";
    case UrlProblem::user_info: return "user info (user:password@) is not allowed in URLs";
    case UrlProblem::host: return "no valid host";
    case UrlProblem::port: return "invalid port (expected 1..65535)";
  }
  return "invalid";
}

}  // namespace

std::optional<Authority> parse_authority(std::string_view text, UrlProblem* problem) {
  // inet_pton reads a C string: a NUL inside brackets would cut the text short.
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return refuse(problem, UrlProblem::control_character);
  }
  Authority out;
  std::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return refuse(problem, UrlProblem::host);
    out.host = lower(text.substr(1, close - 1));
    out.ipv6 = true;
    if (!is_ipv6(out.host)) return refuse(problem, UrlProblem::host);
    const auto after = text.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return refuse(problem, UrlProblem::host);
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = text.find(':');
    out.host = lower(text.substr(0, colon));
    // A second colon is an IPv6 address without brackets, or garbage.
    if (!valid_reg_name(out.host)) return refuse(problem, UrlProblem::host);
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      has_port = true;
    }
  }
  // "host:" means the default port (RFC 3986 3.2.3).
  if (has_port && !port_text.empty()) {
    out.port = parse_port(port_text);
    if (!out.port) return refuse(problem, UrlProblem::port);
  }
  return out;
}

std::optional<Url> Url::try_parse(std::string_view text, UrlProblem* problem) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return refuse(problem, UrlProblem::control_character);
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return refuse(problem, UrlProblem::not_absolute);

  Url url;
  url.scheme = lower(text.substr(0, sep));  // schemes are case-insensitive (RFC 3986 3.1)
  if (url.scheme != "https" && url.scheme != "http") return refuse(problem, UrlProblem::scheme);

  const auto rest = text.substr(sep + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  const auto tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  // "http://127.0.0.1@example.com" goes to example.com; refusing user info also
  // keeps credentials out of config files and logs.
  if (authority.find('@') != std::string_view::npos) return refuse(problem, UrlProblem::user_info);

  auto parsed = parse_authority(authority, problem);
  if (!parsed) return std::nullopt;
  url.host = std::move(parsed->host);
  url.port = parsed->port ? std::to_string(*parsed->port) : url.scheme == "https" ? "443" : "80";

  const auto target = tail.substr(0, tail.find('#'));  // fragments never go on the wire
  url.target = (target.empty() || target.front() == '?') ? "/" + std::string(target) : std::string(target);
  return url;
}

Url Url::parse(std::string_view text) {
  UrlProblem problem{};
  auto url = try_parse(text, &problem);
  if (url) return std::move(*url);
  // Not echoed: the part before '@' may be a password.
  if (problem == UrlProblem::user_info) throw Error(ErrorKind::config, std::string("invalid URL: ") + describe(problem));
  // The message never carries the query (SAS signatures, skip tokens live there).
  throw Error(ErrorKind::config, "invalid URL \"" + log::redact_url(text) + "\": " + describe(problem));
}

bool Url::is_default_port() const {
  return (scheme == "https" && port == "443") || (scheme == "http" && port == "80");
}

std::string Url::authority() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!is_default_port()) out += ":" + port;
  return out;
}

std::string Url::origin() const { return scheme + "://" + authority(); }

bool Url::is_ip_literal() const { return is_ipv4(host) || is_ipv6(host); }

bool Url::is_instance_metadata() const { return host == instance_metadata_address; }

bool Url::is_loopback() const {
  if (host == "localhost" || host == "localhost.") return true;
  in_addr v4{};
  if (is_ipv4(host, &v4)) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return is_ipv6(host, &v6) && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

}  // namespace mdesync
