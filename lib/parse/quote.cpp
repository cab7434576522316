#include "parse/quote.hpp"

namespace mdesync::parse {
namespace {

// How many bytes of `s` fit in `max_bytes` without splitting a UTF-8 sequence.
std::size_t cut(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // continuation byte
  return n;
}

// Appends `s` with control characters escaped JSON-style; `"` and `\` too when
// `escape_quotes` (a value we put in quotes) and as they are otherwise (a token
// that is already JSON text).
void append_printable(std::string& out, std::string_view s, bool escape_quotes) {
  static constexpr char hex[] = "0123456789abcdef";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (escape_quotes && (c == '"' || c == '\\')) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (u < 0x20 || u == 0x7F) {
      out.append("\\u00");
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

void append_quoted(std::string& out, std::string_view value, std::size_t max_bytes) {
  const std::size_t n = cut(value, max_bytes);
  out.push_back('"');
  append_printable(out, value.substr(0, n), true);
  out.push_back('"');
  if (n < value.size()) out.append("...");
}

void append_token(std::string& out, std::string_view token, std::size_t max_bytes) {
  const std::size_t n = cut(token, max_bytes);
  append_printable(out, token.substr(0, n), false);
  if (n < token.size()) out.append("...");
}

}  // namespace mdesync::parse
