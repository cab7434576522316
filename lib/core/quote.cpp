#include "core/quote.hpp"

namespace mdesync {
namespace {

// How many bytes of `s` fit in `max_bytes` without splitting a UTF-8 sequence.
std::size_t cut(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return s.size();
  std::size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // continuation byte
  return n;
}

// The length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3, lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4, lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
  else return 0;
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) return 0;
  }
  return n;
}

// Appends `s` with control characters escaped JSON-style; `"` and `\` too when
// `escape_quotes` (a value we put in quotes) and as they are otherwise (a token
// that is already JSON text). A byte that is not part of well-formed UTF-8 becomes
// `\xHH`: reasons go to PostgreSQL text columns, which refuse invalid UTF-8.
void append_printable(std::string& out, std::string_view s, bool escape_quotes) {
  static constexpr char hex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      if (const std::size_t n = utf8_sequence(s, i)) {
        out.append(s.substr(i, n));
        i += n - 1;
      } else {
        out.append("\\x");
        out.push_back(hex[u >> 4]);
        out.push_back(hex[u & 0xF]);
      }
    } else if (escape_quotes && (c == '"' || c == '\\')) {
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

}  // namespace mdesync
