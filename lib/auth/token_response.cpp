#include "auth/token_response.hpp"

#include <strings.h>

#include "auth/flat_json.hpp"
#include "core/error.hpp"
#include "core/quote.hpp"

namespace mdesync::auth {

TokenGrant read_token_grant(std::string_view body, const std::string& what) {
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
  const auto expires_in = json->integer("expires_in");
  if (!expires_in || *expires_in <= 0 || *expires_in > max_token_lifetime.count())
    throw Error(ErrorKind::auth, what + "has no valid expires_in");
  grant.expires_in = std::chrono::seconds(*expires_in);
  return grant;
}

}  // namespace mdesync::auth
