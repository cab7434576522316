#pragma once
// Test-only decoders that read COPY text and array literals the way PostgreSQL
// does (CopyReadAttributesText, array_in), written from the documented formats so
// the encoder is checked against an independent reading, not against itself.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::parse::testing {

using Field = std::optional<std::string>;  // nullopt = SQL NULL

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One COPY line without its newline -> fields. A field that is exactly \N is NULL.
inline std::vector<Field> decode_copy_line(std::string_view line) {
  std::vector<Field> fields;
  std::string cur;
  std::string_view raw_start = line;  // to recognise a field that is exactly \N
  std::size_t field_begin = 0;
  auto finish = [&](std::size_t end) {
    if (raw_start.substr(field_begin, end - field_begin) == "\\N")
      fields.emplace_back(std::nullopt);
    else
      fields.emplace_back(cur);
    cur.clear();
  };
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\t') {
      finish(i);
      field_begin = i + 1;
      continue;
    }
    if (c != '\\' || i + 1 == line.size()) {
      cur.push_back(c);
      continue;
    }
    const char e = line[++i];
    switch (e) {
      case 'b': cur.push_back('\b'); break;
      case 'f': cur.push_back('\f'); break;
      case 'n': cur.push_back('\n'); break;
      case 'r': cur.push_back('\r'); break;
      case 't': cur.push_back('\t'); break;
      case 'v': cur.push_back('\v'); break;
      case 'x': {
        int v = 0, n = 0;
        while (n < 2 && i + 1 < line.size() && hex_value(line[i + 1]) >= 0) v = v * 16 + hex_value(line[++i]), ++n;
        if (n == 0)
          cur.push_back('x');
        else
          cur.push_back(static_cast<char>(v));
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          int v = e - '0', n = 1;
          while (n < 3 && i + 1 < line.size() && line[i + 1] >= '0' && line[i + 1] <= '7') v = v * 8 + (line[++i] - '0'), ++n;
          cur.push_back(static_cast<char>(v));
        } else {
          cur.push_back(e);  // any other character stands for itself (\\ -> \, \N handled above)
        }
    }
  }
  finish(line.size());
  return fields;
}

// A one-dimensional text[] literal -> elements (nullopt = NULL). Returns nullopt
// when the literal is not well formed.
inline std::optional<std::vector<Field>> decode_array_literal(std::string_view s) {
  if (s.size() < 2 || s.front() != '{' || s.back() != '}') return std::nullopt;
  std::vector<Field> out;
  std::size_t i = 1;
  const std::size_t end = s.size() - 1;
  if (i == end) return out;
  while (true) {
    if (i < end && s[i] == '"') {
      std::string e;
      ++i;
      while (i < end && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < end) ++i;
        e.push_back(s[i++]);
      }
      if (i >= end) return std::nullopt;
      ++i;  // closing quote
      out.emplace_back(std::move(e));
    } else {
      const std::size_t start = i;
      while (i < end && s[i] != ',') ++i;
      const std::string_view word = s.substr(start, i - start);
      if (word == "NULL")
        out.emplace_back(std::nullopt);
      else
        out.emplace_back(std::string(word));
    }
    if (i == end) return out;
    if (s[i] != ',') return std::nullopt;
    ++i;
  }
}

}  // namespace mdesync::parse::testing
