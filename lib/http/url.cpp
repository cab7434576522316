#include "http/url.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "core/error.hpp"
#include "core/log.hpp"

namespace mdesync::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

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

// Letters, digits, '-', '.', '_' : what DNS names in URLs we talk to consist of.
// Percent-encoded or international names are refused rather than guessed at.
bool valid_reg_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Url Url::parse(std::string_view text) {
  // The message never carries the query (SAS signatures, skip tokens live there).
  const auto fail = [&](std::string_view why) {
    return Error(ErrorKind::config, "invalid URL \"" + log::redact_url(text) + "\": " + std::string(why));
  };
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) throw fail("contains spaces or control characters");
  }
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) throw fail("not an absolute URL (expected https://host/...)");

  Url url;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "https" && url.scheme != "http")
    throw fail("unsupported scheme \"" + url.scheme + "\" (expected https)");

  const auto rest = text.substr(sep + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  const auto tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos)
    // Not echoed: the part before '@' may be a password.
    throw Error(ErrorKind::config, "invalid URL: user info (user:password@) is not allowed in URLs");
  if (authority.empty()) throw fail("no host");

  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw fail("unterminated IPv6 address");
    url.host = lower(authority.substr(1, close - 1));
    if (!is_ipv6(url.host)) throw fail("invalid IPv6 address");
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw fail("unexpected text after IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos) throw fail("IPv6 addresses must be in brackets");
    }
    if (!valid_reg_name(url.host)) throw fail("invalid host name");
  }

  if (port_text.empty()) {  // "host:" means the default port (RFC 3986 3.2.3)
    url.port = url.scheme == "https" ? "443" : "80";
  } else {
    if (port_text.size() > 5) throw fail("invalid port");
    unsigned value = 0;
    for (const char c : port_text) {
      if (c < '0' || c > '9') throw fail("invalid port");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) throw fail("port out of range");
    url.port = std::to_string(value);
  }

  auto target = tail.substr(0, tail.find('#'));  // fragments never go on the wire
  url.target = (target.empty() || target.front() == '?') ? "/" + std::string(target) : std::string(target);
  return url;
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

bool Url::is_loopback() const {
  if (host == "localhost" || host == "localhost.") return true;
  in_addr v4{};
  if (is_ipv4(host, &v4)) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (is_ipv6(host, &v6)) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace mdesync::http
