#pragma once
// application/x-www-form-urlencoded bodies, as the OAuth2 token endpoint takes them.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdesync::auth {

// "k1=v1&k2=v2", both sides percent_encode()d (core/url.hpp): space as %20,
// never '+', so a secret holding '&', '=', '+', '%' or ' ' arrives unchanged.
std::string form_body(const std::vector<std::pair<std::string_view, std::string_view>>& fields);

}  // namespace mdesync::auth
