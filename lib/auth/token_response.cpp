#include "auth/token_response.hpp"

#include <strings.h>

#include <algorithm>
#include <cstdint>

#include "auth/flat_json.hpp"
#include "core/error.hpp"
#include "core/quote.hpp"

namespace mdesync::auth {

TokenGrant read_token_grant(std::string_view body, const std::string& what,
                            std::optional<std::chrono::system_clock::time_point> requested_at) {
  const auto json = FlatJson::parse(body);
  if (!json) throw Error(ErrorKind::transient, what + "is not JSON (HTTP 200); a proxy in the way?");
  TokenGrant grant;
  grant.access_token = json->string("access_token").value_or("");
  if (grant.access_token.empty()) throw Error(ErrorKind::auth, what + "has no access_token");
  const auto type = json->string("token_type").value_or("Bearer");
  if (strcasecmp(type.c_str(), "bearer") != 0 || type.size() != 6) {
    // The server's text, so quoted: bounded and without control characters;
    // and not at all when it holds the token, which never goes to a log.
    std::string message = what + "has token_type ";
    if (type.find(grant.access_token) == std::string::npos)
      append_quoted(message, type);
    else
      message += "<redacted>";
    throw Error(ErrorKind::auth, message + ", expected Bearer");
  }
  auto expires_in = json->integer("expires_in");
  if (!expires_in && requested_at)
    if (const auto expires_on = json->integer("expires_on")) {
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(requested_at->time_since_epoch()).count();
      // Subtracted only when both are sane, so that no overflow can happen.
      if (*expires_on > now && *expires_on - now < 10 * max_token_lifetime.count())
        expires_in = std::min<std::int64_t>(*expires_on - now, max_token_lifetime.count());
      else
        expires_in = 0;
    }
  if (!expires_in || *expires_in <= 0 || *expires_in > max_token_lifetime.count())
    throw Error(ErrorKind::auth, what + (requested_at ? "has no valid expires_in or expires_on" : "has no valid expires_in"));
  grant.expires_in = std::chrono::seconds(*expires_in);
  return grant;
}

}  // namespace mdesync::auth
