#pragma once
// The one URL parser and the one loopback policy. The config loader asks it
// whether a URL may be used at all (url_allowed), the HTTP client how to reach
// it, so a URL the config accepts is a URL the client accepts, and the reverse.
// Parsing is strict on purpose: a URL we misread would send a token or a SAS
// signature to the wrong place.
//
// Loopback means 127.0.0.0/8 written as a dotted quad, ::1, "localhost" and its
// fully qualified form "localhost.". Not ::ffff:127.x.y.z: the HTTP client
// checks every resolved address again before plain http connects (Asio's
// is_loopback, ::1 only for IPv6), so a v4-mapped address would pass here and
// fail there; nobody needs it when 127.0.0.1 says the same, and writing IPv4 as
// IPv6 is a classic way past address filters. Names resolve at connect time, so
// a "localhost" that resolves elsewhere is refused there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mdesync {

// Why a text is not a URL we accept; each caller words the message its own way.
enum class UrlProblem {
  control_character,  // space, control character or DEL anywhere
  not_absolute,       // no "scheme://"
  scheme,             // a scheme other than http or https
  user_info,          // "user:password@host": never echoed, it may hold a password
  host,               // missing, malformed IPv6 literal, or not a plain DNS name
  port,               // not 1..65535
};

// host[:port] as it appears in a URL or in metrics.listen.
struct Authority {
  std::string host;                  // lower case; IPv6 literals without brackets
  std::optional<std::uint16_t> port;  // nullopt when absent or empty ("host:")
  bool ipv6 = false;                 // written in brackets
};

// "host", "host:port", "[v6]" or "[v6]:port". Host names are letters, digits,
// '-', '.', '_' (at most 253): percent-encoded or international names are
// refused rather than guessed at. IPv4 literals count as names here.
std::optional<Authority> parse_authority(std::string_view text, UrlProblem* problem = nullptr);

struct Url {
  std::string scheme;  // "http" or "https", lower case
  std::string host;    // lower case; IPv6 literals without brackets
  std::string port;    // decimal; "443"/"80" when the URL names none
  std::string target;  // path and query, never empty ("/" at least); no fragment

  // An absolute http(s) URL with a host, or nullopt and why.
  static std::optional<Url> try_parse(std::string_view text, UrlProblem* problem = nullptr);
  // Throws mdesync::Error(ErrorKind::config) naming the (redacted) URL when
  // try_parse refuses it.
  static Url parse(std::string_view text);

  // "https://host" or "https://host:8443" (default ports omitted, IPv6 in
  // brackets); one keep-alive connection is kept per origin.
  std::string origin() const;
  // The Host header value: host[:port], default port omitted.
  std::string authority() const;
  bool is_default_port() const;
  // The loopback policy above: the only hosts plain http:// may reach.
  bool is_loopback() const;
  // 169.254.169.254, Azure's Instance Metadata Service (link-local): plain
  // http:// reaches it only from an HTTP client built to ask it for managed
  // identity tokens (http::ClientOptions::allow_instance_metadata).
  bool is_instance_metadata() const;
  // True when host is an IPv4 or IPv6 literal (no SNI is sent for those).
  bool is_ip_literal() const;
};

// Every byte but the RFC 3986 unreserved ones (A-Z a-z 0-9 - . _ ~) becomes %XX,
// upper-case hex, space included (never '+'). Right for query values and for
// application/x-www-form-urlencoded fields alike: a secret holding '&', '=',
// '+', '%' or ' ' arrives unchanged.
std::string percent_encode(std::string_view text);

}  // namespace mdesync
