#pragma once
// An outbound HTTP proxy for https:// requests, and the NO_PROXY rules that
// let some hosts skip it. Pure: no sockets, no Beast; client.cpp opens the
// CONNECT tunnel.
//
// Invariants kept by client.cpp with these types:
//  - Only https:// goes through the proxy, and only inside a CONNECT tunnel: the
//    proxy sees "CONNECT host:port", never a path, a query, a header we send to
//    the host, or a body. Plain http:// (loopback, instance metadata) never does.
//  - TLS inside the tunnel is verified against the URL's host (SNI and
//    certificate), never against the proxy's name.
//  - The proxy's credentials go in the CONNECT request and nowhere else.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/url.hpp"

namespace mdesync::http {

// The common NO_PROXY rules (curl's, Go's, Python requests'), written as a comma-
// or space-separated list:
//  - "*" alone: no host uses the proxy;
//  - a name matches itself and every name below it: "example.com" (or
//    ".example.com", or "*.example.com") matches example.com and a.example.com,
//    never badexample.com;
//  - an IPv4 or IPv6 address matches that address, a CIDR block ("10.0.0.0/8",
//    "fd00::/8") every address in it; names are never resolved to match them;
//  - ":port" after any of these ("example.com:8443", "[::1]:443") limits the
//    rule to that port.
// Loopback gets no special treatment (as in curl): list localhost and
// 127.0.0.1 when they must not go through the proxy. Entries that are none of
// these are ignored, as every other implementation does.
class NoProxy {
 public:
  static NoProxy parse(std::string_view list);

  // `host` as Url keeps it: lower case, IPv6 without brackets; `port` decimal.
  bool matches(std::string_view host, std::string_view port) const;
  bool empty() const { return !everything_ && rules_.empty(); }
  // The rules as understood, normalised ("*", ".example.com", "10.0.0.0/8", ...),
  // for `mdesync check`.
  std::string describe() const;

 private:
  struct Rule {
    std::string domain;        // lower case, no leading dot; empty for address rules
    unsigned char address[16]{};  // IPv4 as v4-mapped IPv6
    int prefix_bits = -1;      // address rules: 0..128; -1 for domain rules
    std::string port;          // empty: any port
    std::string text;          // as described
  };
  bool everything_ = false;
  std::vector<Rule> rules_;
};

struct Proxy {
  std::string host;  // lower case; IPv6 without brackets
  std::string port;  // decimal
  // Basic credentials for the proxy; empty user: none are sent. `password` is
  // asked for each new tunnel (a rotated password file is picked up) and may throw
  // mdesync::Error(ErrorKind::config) when it cannot be read.
  std::string user;
  std::function<std::string()> password;
  NoProxy bypass;

  // "host:port" ("[v6]:port"): how messages name the proxy.
  std::string authority() const;
  // Whether a request to `url` goes through this proxy: https:// only, and not
  // when the host is in `bypass`.
  bool carries(const Url& url) const;
};

// "Basic base64(user:password)" (RFC 7617, UTF-8 as given).
std::string basic_credentials(std::string_view user, std::string_view password);

}  // namespace mdesync::http
