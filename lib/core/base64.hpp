#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace mdesync {

// RFC 4648 base64url without padding, as JWTs use it.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// Standard base64 with padding (PEM bodies, Basic credentials).
std::string base64_encode(std::string_view bytes);

}  // namespace mdesync
