#include "invariants.hpp"

#include <simdjson.h>

#include <string>

#include "parse/json_value.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

// At most this many bytes of the offending text go into a message.
constexpr std::size_t shown_bytes = 200;

std::string shown(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : s.substr(0, shown_bytes)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      out.append("\\x").push_back(hex[u >> 4]);
      out.push_back(hex[u & 0xF]);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  if (s.size() > shown_bytes) out.append("...");
  return out;
}

[[noreturn]] void broken(std::string_view what, std::string_view text) {
  throw InvariantBroken(std::string(what) + ": " + shown(text));
}

// One COPY field as copy_text writes it: \N alone, or bytes where a backslash
// only starts one of the escapes append_text produces.
bool valid_field(std::string_view field) {
  if (field == "\\N") return true;
  for (std::size_t i = 0; i < field.size(); ++i) {
    const char c = field[i];
    if (c == '\n' || c == '\r' || c == '\t' || c == '\0') return false;
    if (c != '\\') continue;
    if (++i == field.size()) return false;
    if (std::string_view("\\nrtbfv").find(field[i]) == std::string_view::npos) return false;
  }
  return true;
}

}  // namespace

void check(bool ok, std::string_view what) {
  if (!ok) throw InvariantBroken(std::string(what));
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 3;
      if (b == 0xE0) lo = 0xA0;       // overlong
      else if (b == 0xED) hi = 0x9F;  // UTF-16 surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 4;
      if (b == 0xF0) lo = 0x90;       // overlong
      else if (b == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + n > s.size()) return false;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < lo || second > hi) return false;
    for (std::size_t k = 2; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

void check_log_safe(std::string_view text, std::string_view what) {
  if (!valid_utf8(text)) broken(std::string(what) + " is not valid UTF-8", text);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) broken(std::string(what) + " holds a raw control character", text);
  }
}

// A JSON value jsonb accepts: well-formed, and no string holding U+0000.
bool jsonb_value(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      if (value.get_object().get(object)) return false;
      for (auto field : object) {
        simdjson::ondemand::field f;
        std::string_view key;
        if (std::move(field).get(f) || f.unescaped_key().get(key) || key.find('\0') != std::string_view::npos ||
            !jsonb_value(f.value()))
          return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array array;
      if (value.get_array().get(array)) return false;
      for (auto element : array) {
        simdjson::ondemand::value v;
        if (std::move(element).get(v) || !jsonb_value(v)) return false;
      }
      return true;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view text;
      return !value.get_string().get(text) && text.find('\0') == std::string_view::npos;
    }
    case simdjson::ondemand::json_type::number:
      return parse::is_json_number(parse::trim_json_space(value.raw_json_token()));
    case simdjson::ondemand::json_type::boolean: {
      bool b;
      return !value.get_bool().get(b);
    }
    case simdjson::ondemand::json_type::null: {
      bool is_null = false;
      return !value.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

// extra_fields, COPY-decoded, must be a JSON object jsonb accepts: one it refuses
// fails the whole batch. (\u0000 is the escape jsonb refuses; "\\u0000", the
// text of one, is fine.)
void check_extra_fields(std::string_view field) {
  if (field == "\\N") return;
  std::string json;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      json.push_back(field[i]);
      continue;
    }
    switch (field[++i]) {
      case 'n': json.push_back('\n'); break;
      case 'r': json.push_back('\r'); break;
      case 't': json.push_back('\t'); break;
      case 'b': json.push_back('\b'); break;
      case 'f': json.push_back('\f'); break;
      case 'v': json.push_back('\v'); break;
      default: json.push_back(field[i]);
    }
  }
  // On-Demand, every value visited: simdjson's DOM refuses numbers past double
  // and 64-bit range, which jsonb (numeric) holds.
  const simdjson::padded_string padded(json);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object))
    broken("extra_fields is not a JSON object", json);
  for (auto field : object) {
    simdjson::ondemand::field f;
    std::string_view key;
    if (std::move(field).get(f) || f.unescaped_key().get(key) || !jsonb_value(f.value()))
      broken("extra_fields holds a value jsonb refuses", json);
    if (key.find('\0') != std::string_view::npos) broken("extra_fields holds U+0000 in a name", json);
  }
  const char* end = nullptr;
  if (!doc.current_location().get(end)) broken("extra_fields has trailing content", json);
}

void check_copy_lines(std::string_view copy, model::Dataset dataset, std::size_t rows) {
  // tenant, the data set's columns, extra_fields
  const std::size_t fields = 2 + model::spec(dataset).columns.size();
  std::size_t lines = 0;
  while (!copy.empty()) {
    const std::size_t nl = copy.find('\n');
    if (nl == std::string_view::npos) broken("COPY text does not end with a newline", copy);
    const std::string_view line = copy.substr(0, nl);
    copy.remove_prefix(nl + 1);
    ++lines;
    if (!valid_utf8(line)) broken("COPY line is not valid UTF-8", line);
    if (line.starts_with("\\.")) broken("COPY line would end the data", line);
    std::size_t count = 0;
    std::size_t start = 0;
    while (true) {
      const std::size_t tab = line.find('\t', start);
      const std::string_view field = line.substr(start, tab == std::string_view::npos ? tab : tab - start);
      if (!valid_field(field)) broken("COPY field is badly escaped", field);
      ++count;
      if (count == fields) check_extra_fields(field);
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (count != fields)
      broken("COPY line has " + std::to_string(count) + " fields, the table " + std::to_string(fields), line);
  }
  if (lines != rows)
    throw InvariantBroken("COPY text has " + std::to_string(lines) + " lines but " + std::to_string(rows) +
                          " rows were counted");
}

}  // namespace mdesync::fuzz
