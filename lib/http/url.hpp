#pragma once
// An absolute http(s) URL split into the parts a client needs to connect.
// Parsing is strict on purpose: a URL we misread would send a token or a SAS
// signature to the wrong place.
#include <string>
#include <string_view>

namespace mdesync::http {

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; IPv6 literals without brackets
  std::string port;    // decimal; "443"/"80" when the URL names none
  std::string target;  // path and query, never empty ("/" at least); no fragment

  // Throws mdesync::Error(ErrorKind::config) naming the (redacted) URL when it is
  // not an absolute http(s) URL with a host: other schemes, user info, bad ports,
  // spaces or control characters.
  static Url parse(std::string_view text);

  // "https://host" or "https://host:8443" (default ports omitted, IPv6 in
  // brackets); one keep-alive connection is kept per origin.
  std::string origin() const;
  // The Host header value: host[:port], default port omitted.
  std::string authority() const;
  bool is_default_port() const;
  // 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z) and "localhost": the only hosts
  // plain http:// may reach.
  bool is_loopback() const;
  // True when host is an IPv4 or IPv6 literal (no SNI is sent for those).
  bool is_ip_literal() const;
};

}  // namespace mdesync::http
