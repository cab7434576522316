// Which URLs the daemon may talk to, and host:port parsing for metrics.listen.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

#include "config/config.hpp"

namespace mdesync::config {
namespace {

struct Authority {
  std::string host;  // without brackets
  bool ipv6 = false;
  std::optional<std::uint16_t> port;
};

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || value < 1 || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "host", "host:port", "[v6]" or "[v6]:port".
std::optional<Authority> parse_authority(std::string_view text) {
  Authority out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    out.ipv6 = true;
    in6_addr addr{};
    if (inet_pton(AF_INET6, out.host.c_str(), &addr) != 1) return std::nullopt;
    rest = text.substr(close + 1);
  } else {
    const std::size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    if (out.host.empty()) return std::nullopt;
    for (const char c : out.host)
      if (!host_char(c)) return std::nullopt;
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':') return std::nullopt;
    out.port = parse_port(rest.substr(1));
    if (!out.port) return std::nullopt;
  }
  return out;
}

bool is_loopback(const Authority& a) {
  if (a.ipv6) {
    in6_addr addr{};
    return inet_pton(AF_INET6, a.host.c_str(), &addr) == 1 && IN6_IS_ADDR_LOOPBACK(&addr);
  }
  std::string lower = a.host;
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (lower == "localhost") return true;
  // inet_pton takes only the four-part dotted form, so "127.1" or "0x7f.0.0.1"
  // are names here, not loopback addresses.
  in_addr addr{};
  if (inet_pton(AF_INET, a.host.c_str(), &addr) != 1) return false;
  return (ntohl(addr.s_addr) >> 24) == 127;
}

}  // namespace

bool url_allowed(const std::string& url, std::string* why) {
  auto fail = [why](const char* message) {
    if (why) *why = message;
    return false;
  };
  for (const char c : url)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return fail("must not contain whitespace or control characters");
  std::string_view rest(url);
  bool https = false;
  if (rest.starts_with("https://")) {
    https = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    return fail("must start with https:// (or http:// to a loopback host)");
  }
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // "http://127.0.0.1@example.com" goes to example.com; refusing user info
  // also keeps credentials out of config files and logs.
  if (authority.find('@') != std::string_view::npos) return fail("must not contain user info (user@host)");
  const auto parsed = parse_authority(authority);
  if (!parsed) return fail("has no valid host[:port]");
  if (https || is_loopback(*parsed)) return true;
  return fail("http:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost)");
}

std::optional<HostPort> parse_host_port(const std::string& text) {
  const auto parsed = parse_authority(text);
  if (!parsed || !parsed->port) return std::nullopt;
  return HostPort{parsed->host, *parsed->port};
}

}  // namespace mdesync::config
