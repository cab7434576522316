#include "http/proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <optional>

#include "core/base64.hpp"

namespace mdesync::http {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (const char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// An IPv4 or IPv6 literal as 16 bytes (IPv4 v4-mapped), so one comparison
// serves both families and "::ffff:10.1.2.3" matches the rule "10.0.0.0/8".
std::optional<std::array<unsigned char, 16>> address_bytes(const std::string& text) {
  std::array<unsigned char, 16> out{};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::memcpy(out.data(), &v6, 16);
    return out;
  }
  return std::nullopt;
}

bool prefix_equal(const unsigned char* a, const unsigned char* b, int bits) {
  const int bytes = bits / 8;
  if (std::memcmp(a, b, static_cast<std::size_t>(bytes)) != 0) return false;
  const int rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a[bytes] & mask) == (b[bytes] & mask);
}

}  // namespace

NoProxy NoProxy::parse(std::string_view list) {
  NoProxy out;
  std::size_t i = 0;
  while (i < list.size()) {
    const auto end = list.find_first_of(", \t\r\n", i);
    std::string entry = lower(list.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
    i = end == std::string_view::npos ? list.size() : end + 1;
    if (entry.empty()) continue;
    if (entry == "*") {
      out.everything_ = true;
      continue;
    }
    Rule rule;
    // The port, when there is one: "[v6]:443", "host:443", "1.2.3.4:443". An
    // unbracketed IPv6 address has several colons and no port.
    if (entry.front() == '[') {
      const auto close = entry.find(']');
      if (close == std::string::npos) continue;
      const std::string after = entry.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':' || !all_digits(after.substr(1))) continue;
        rule.port = after.substr(1);
      }
      entry = entry.substr(1, close - 1);
    } else if (const auto colon = entry.find(':');
               colon != std::string::npos && entry.find(':', colon + 1) == std::string::npos) {
      if (!all_digits(entry.substr(colon + 1))) continue;
      rule.port = entry.substr(colon + 1);
      entry = entry.substr(0, colon);
    }
    if (!rule.port.empty()) rule.port = std::to_string(std::stoul(rule.port));  // "0443" is 443

    std::string address = entry;
    int bits = -1;
    if (const auto slash = entry.find('/'); slash != std::string::npos) {
      if (!all_digits(entry.substr(slash + 1)) || entry.size() - slash - 1 > 3) continue;
      address = entry.substr(0, slash);
      bits = std::stoi(entry.substr(slash + 1));
    }
    if (const auto bytes = address_bytes(address)) {
      const bool v4 = address.find(':') == std::string::npos;
      if (bits < 0) bits = v4 ? 32 : 128;
      if (bits > (v4 ? 32 : 128)) continue;
      rule.prefix_bits = v4 ? bits + 96 : bits;
      std::memcpy(rule.address, bytes->data(), 16);
      rule.text = address + (bits == (v4 ? 32 : 128) ? "" : "/" + std::to_string(bits));
    } else {
      if (bits >= 0) continue;  // "name/8" means nothing
      std::string_view domain = entry;
      if (domain.starts_with("*.")) domain.remove_prefix(2);
      while (domain.starts_with('.')) domain.remove_prefix(1);
      while (domain.ends_with('.')) domain.remove_suffix(1);
      if (domain.empty() || domain.find_first_of("*/@") != std::string_view::npos) continue;
      rule.domain = std::string(domain);
      rule.text = "." + rule.domain;
    }
    if (!rule.port.empty()) rule.text = (rule.text.find(':') != std::string::npos ? "[" + rule.text + "]" : rule.text) +
                                        ":" + rule.port;
    out.rules_.push_back(std::move(rule));
  }
  return out;
}

bool NoProxy::matches(std::string_view host_in, std::string_view port) const {
  if (everything_) return true;
  std::string host = lower(host_in);
  while (host.ends_with('.')) host.pop_back();
  const auto address = address_bytes(host);
  for (const auto& rule : rules_) {
    if (!rule.port.empty() && rule.port != port) continue;
    if (rule.prefix_bits >= 0) {
      if (address && prefix_equal(address->data(), rule.address, rule.prefix_bits)) return true;
      continue;
    }
    if (address) continue;  // names never match addresses (nothing is resolved)
    if (host == rule.domain) return true;
    if (host.size() > rule.domain.size() && host.ends_with(rule.domain) &&
        host[host.size() - rule.domain.size() - 1] == '.')
      return true;
  }
  return false;
}

std::string NoProxy::describe() const {
  if (everything_) return "*";
  std::string out;
  for (const auto& rule : rules_) {
    if (!out.empty()) out += ",";
    out += rule.text;
  }
  return out;
}

std::string Proxy::authority() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

bool Proxy::carries(const Url& url) const { return url.scheme == "https" && !bypass.matches(url.host, url.port); }

std::string basic_credentials(std::string_view user, std::string_view password) {
  std::string pair(user);
  pair += ':';
  pair += password;
  return "Basic " + base64_encode(pair);
}

}  // namespace mdesync::http
