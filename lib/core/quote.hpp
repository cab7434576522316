#pragma once
// Quoting of offending values inside rejection reasons. Reasons end up in logs,
// so a value is bounded in length and can never carry a raw control character.
#include <cstddef>
#include <string>
#include <string_view>

namespace mdesync {

inline constexpr std::size_t max_quoted_bytes = 100;

// Appends `"value"`: at most `max_bytes` bytes of it (cut at a UTF-8 character
// boundary, then "..."), with `"`, `\` and control characters escaped JSON-style.
void append_quoted(std::string& out, std::string_view value, std::size_t max_bytes = max_quoted_bytes);

// Appends a raw JSON token as it appeared in the input (already JSON text, so no
// quotes are added and `"`, `\` stay as they are), cut and control characters
// escaped as above.
void append_token(std::string& out, std::string_view token, std::size_t max_bytes = max_quoted_bytes);

}  // namespace mdesync
