#pragma once
// What a token endpoint's HTTP 200 body says, read without I/O so that the
// token fuzz target (tests/fuzz/token_target.cpp) runs exactly this code.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mdesync::auth {

// Longest token lifetime believed; Entra ID issues 60 to 90 minutes, managed
// identities up to a day.
inline constexpr std::chrono::seconds max_token_lifetime{24 * 3600};

struct TokenGrant {
  std::string access_token;  // never empty
  std::chrono::seconds expires_in{0};  // 1 s .. max_token_lifetime
};

// Throws mdesync::Error: transient when `body` is not one JSON object (a proxy's
// page answering for the endpoint), auth when it has no access_token, a
// token_type other than Bearer, or no expires_in in range. Messages start with
// `what` (e.g. `tenant "contoso": token response `); server text in them is
// bounded and escaped, and the access token never appears.
//
// `requested_at` (when the request left, by our clock) is given for managed
// identity endpoints: App Service's sends only expires_on (Unix seconds), which
// then counts when expires_in is absent. A lifetime from expires_on beyond
// max_token_lifetime is cut to it rather than refused: the two clocks may
// differ by a few seconds, and renewing a little early costs nothing.
TokenGrant read_token_grant(std::string_view body, const std::string& what,
                            std::optional<std::chrono::system_clock::time_point> requested_at = std::nullopt);

}  // namespace mdesync::auth
