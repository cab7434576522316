#pragma once
#include <string>
#include <string_view>

namespace mdesync {

// Appends s escaped for the inside of a JSON string: quote, backslash and every
// byte below 0x20. Bytes from 0x80 up pass through (the input is UTF-8).
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace mdesync
