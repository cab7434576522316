#include "parse/json_value.hpp"

#include <cstdio>
#include <cstring>

#include "core/quote.hpp"

namespace mdesync::parse {
namespace {

using simdjson::ondemand::json_type;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// jsonb keeps numbers as numeric, which holds at most 131072 digits before the
// point and 16383 after it (PostgreSQL 15: "value overflows numeric format"
// past that, failing the whole COPY). Stay a little inside both.
constexpr long max_integer_digits = 131000;
constexpr long max_fraction_digits = 16000;

bool fits_numeric(std::string_view token) {
  long integer_digits = 0, fraction_digits = 0;
  std::size_t i = 0;
  if (i < token.size() && token[i] == '-') ++i;
  for (; i < token.size() && is_digit(token[i]); ++i) ++integer_digits;
  if (i < token.size() && token[i] == '.')
    for (++i; i < token.size() && is_digit(token[i]); ++i) ++fraction_digits;
  long exponent = 0;
  if (i < token.size()) {  // 'e' or 'E': is_json_number checked the grammar
    ++i;
    const bool negative = i < token.size() && token[i] == '-';
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    for (; i < token.size(); ++i) {
      exponent = exponent * 10 + (token[i] - '0');
      if (exponent > max_integer_digits) return false;
    }
    if (negative) exponent = -exponent;
  }
  return integer_digits + exponent <= max_integer_digits && fraction_digits - exponent <= max_fraction_digits;
}

struct Copier {
  std::string& clean;
  std::string& original;
  std::string& problem;
  std::string scratch;
  bool altered = false;

  bool fail(std::string_view what, std::string_view token) {
    // The problem ends up in a rejection reason, so in logs: bounded and escaped.
    problem.assign(what);
    append_token(problem, token);
    return false;
  }

  bool copy(simdjson::ondemand::value& value) {
    json_type type;
    if (const auto err = value.type().get(type)) {
      problem = simdjson::error_message(err);
      return false;
    }
    switch (type) {
      case json_type::object: return copy_object(value);
      case json_type::array: return copy_array(value);
      case json_type::string: return copy_string(value);
      case json_type::number: return copy_number(value);
      case json_type::boolean: return copy_literal(value, true);
      case json_type::null: return copy_literal(value, false);
    }
    return fail("unknown JSON type", "");
  }

  bool copy_string(simdjson::ondemand::value& value) {
    const std::string_view token = trim_json_space(value.raw_json_token());
    original.append(token);
    std::string_view s;
    if (value.get_string().get(s)) {
      // An unpaired surrogate or a bad escape: jsonb cannot hold it. The token
      // itself (valid UTF-8: simdjson checks the whole input) is kept as text.
      altered = true;
      append_jsonb_string(clean, token);
      return true;
    }
    if (fix_nul(s, scratch)) {
      altered = true;
      s = scratch;
    }
    append_jsonb_string(clean, s);
    return true;
  }

  bool copy_number(simdjson::ondemand::value& value) {
    const std::string_view token = trim_json_space(value.raw_json_token());
    if (!is_json_number(token)) return fail("invalid number ", token);
    original.append(token);
    if (fits_numeric(token)) {
      clean.append(token);
    } else {
      altered = true;
      append_jsonb_string(clean, token);
    }
    return true;
  }

  bool copy_literal(simdjson::ondemand::value& value, bool boolean) {
    const std::string_view token = trim_json_space(value.raw_json_token());
    bool ok = false;
    if (boolean) {
      bool b;
      ok = !value.get_bool().get(b);
    } else {
      bool is_null = false;
      ok = !value.is_null().get(is_null) && is_null;
    }
    if (!ok) return fail("invalid literal ", token);
    original.append(token);
    clean.append(token);
    return true;
  }

  // Both outputs at once: a punctuation character.
  void put(char c) {
    clean.push_back(c);
    original.push_back(c);
  }

  bool failed(simdjson::error_code err) {
    problem = simdjson::error_message(err);
    return false;
  }

  // An array's or object's items between `open` and `close`, comma separated;
  // `item` copies one (its element or field) and says whether it could.
  template <typename Container, typename Item, typename CopyItem>
  bool copy_items(Container& container, char open, char close, CopyItem copy_item) {
    put(open);
    bool first = true;
    for (auto result : container) {
      Item item;
      if (const auto err = std::move(result).get(item)) return failed(err);
      if (!first) put(',');
      first = false;
      if (!copy_item(item)) return false;
    }
    put(close);
    return true;
  }

  bool copy_array(simdjson::ondemand::value& value) {
    simdjson::ondemand::array array;
    if (const auto err = value.get_array().get(array)) return failed(err);
    return copy_items<simdjson::ondemand::array, simdjson::ondemand::value>(
        array, '[', ']', [this](simdjson::ondemand::value& element) { return copy(element); });
  }

  bool copy_object(simdjson::ondemand::value& value) {
    simdjson::ondemand::object object;
    if (const auto err = value.get_object().get(object)) return failed(err);
    return copy_items<simdjson::ondemand::object, simdjson::ondemand::field>(
        object, '{', '}', [this](simdjson::ondemand::field& field) {
          original.push_back('"');
          original.append(raw_key(field));  // before unescaped_key(), which consumes the key
          original.push_back('"');
          std::string_view key;
          if (field.unescaped_key().get(key)) return fail("invalid field name ", "");
          if (fix_nul(key, scratch)) {
            altered = true;
            key = scratch;
          }
          append_jsonb_string(clean, key);
          put(':');
          return copy(field.value());
        });
  }
};

}  // namespace

std::string_view raw_key(const simdjson::ondemand::field& field) {
  // The key's text up to its closing quote; the input is padded and stage 1
  // matched every quote, so the scan ends inside the buffer.
  const char* const start = field.key().raw();
  const char* p = start;
  while (*p != '"') p += *p == '\\' ? 2 : 1;
  return {start, static_cast<std::size_t>(p - start)};
}

std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool fix_nul(std::string_view s, std::string& fixed) {
  if (std::memchr(s.data(), '\0', s.size()) == nullptr) return false;
  while (!s.empty() && s.back() == '\0') s.remove_suffix(1);
  fixed.clear();
  for (const char c : s) {
    if (c == '\0')
      fixed.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
    else
      fixed.push_back(c);
  }
  return true;
}

void append_jsonb_string(std::string& out, std::string_view s) {
  out.push_back('"');
  const char* run = s.data();
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(run, p);
    run = p + 1;
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      case 0: out.append("\\\\u0000"); break;  // the text \u0000: jsonb refuses the character
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        out.append(buf);
      }
    }
  }
  out.append(run, end);
  out.push_back('"');
}

JsonCopy copy_json_value(simdjson::ondemand::value value, std::string& clean, std::string& original,
                         std::string& problem) {
  Copier copier{clean, original, problem, {}};
  if (!copier.copy(value)) return JsonCopy::invalid;
  return copier.altered ? JsonCopy::altered : JsonCopy::exact;
}

}  // namespace mdesync::parse
