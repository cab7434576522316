// Which URLs the daemon may talk to, and host:port parsing for metrics.listen.
// Both read URLs with core/url.hpp, the parser the HTTP client uses, so what
// the config accepts is what the client will connect to.
#include "config/config.hpp"
#include "core/url.hpp"

namespace mdesync::config {

bool url_allowed(const std::string& url, std::string* why) {
  auto fail = [why](const char* message) {
    if (why) *why = message;
    return false;
  };
  UrlProblem problem{};
  const auto parsed = Url::try_parse(url, &problem);
  if (!parsed) {
    switch (problem) {
      case UrlProblem::control_character: return fail("must not contain whitespace or control characters");
      case UrlProblem::not_absolute:
      case UrlProblem::scheme: return fail("must start with https:// (or http:// to a loopback host)");
      case UrlProblem::user_info: return fail("must not contain user info (user@host)");
      case UrlProblem::host:
      case UrlProblem::port: break;
    }
    return fail("has no valid host[:port]");
  }
  if (parsed->scheme == "https" || parsed->is_loopback()) return true;
  return fail("http:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost)");
}

std::optional<HostPort> parse_host_port(const std::string& text) {
  const auto parsed = parse_authority(text);
  if (!parsed || !parsed->port) return std::nullopt;
  return HostPort{parsed->host, *parsed->port};
}

}  // namespace mdesync::config
