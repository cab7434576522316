#include "parse/record_encoder.hpp"

#include <charconv>
#include <cstring>
#include <limits>

#include "parse/copy_text.hpp"
#include "parse/quote.hpp"
#include "parse/timestamp_text.hpp"

namespace mdesync::parse {
namespace {

using simdjson::ondemand::json_type;
constexpr std::size_t no_column = static_cast<std::size_t>(-1);

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

const char* describe(json_type t) {
  switch (t) {
    case json_type::array: return "an array";
    case json_type::object: return "an object";
    case json_type::number: return "a number";
    case json_type::string: return "a string";
    case json_type::boolean: return "a boolean";
    case json_type::null: return "null";
  }
  return "an unknown value";
}

// raw_json_token() runs up to the next token, so it carries trailing whitespace.
std::string_view trim_json_space(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The JSON number grammar (RFC 8259 section 6). On-Demand leaves scalars it is not
// asked to convert unchecked, and a text column stores the token verbatim.
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

enum class IntParse { ok, not_integer, out_of_range };

// An optional sign and decimal digits, nothing else, within PostgreSQL's integer.
IntParse parse_int32(std::string_view s, std::int32_t& value) {
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
  if (i == s.size()) return IntParse::not_integer;
  std::int64_t v = 0;
  bool overflow = false;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return IntParse::not_integer;
    if (!overflow) {
      v = v * 10 + (s[i] - '0');
      overflow = v > std::int64_t{std::numeric_limits<std::int32_t>::max()} + 1;
    }
  }
  if (negative) v = -v;
  if (overflow || v < std::numeric_limits<std::int32_t>::min() || v > std::numeric_limits<std::int32_t>::max())
    return IntParse::out_of_range;
  value = static_cast<std::int32_t>(v);
  return IntParse::ok;
}

}  // namespace

RecordEncoder::RecordEncoder(model::Dataset dataset, std::string tenant)
    : dataset_(dataset), tenant_(std::move(tenant)), columns_(model::spec(dataset).columns) {
  append_text(tenant_field_, tenant_);
  lower_names_.reserve(columns_.size());
  for (const auto& c : columns_) {
    std::string lower(c.json_name);
    for (auto& ch : lower) ch = ascii_lower(ch);
    lower_names_.push_back(std::move(lower));
  }
  for (const auto required : model::required_json_fields) {
    for (std::size_t i = 0; i < columns_.size(); ++i)
      if (columns_[i].json_name == required) required_.push_back(i);
  }
  // The indexes of sql/: the primary key, and software_inventory_vulnerable_by_device.
  index_groups_.emplace_back();
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].key) index_groups_.back().push_back(i);
  if (dataset == model::Dataset::cpe) {
    index_groups_.emplace_back();
    for (const std::string_view name : {"deviceId", "deviceName", "osPlatform", "rbacGroupName"})
      for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].json_name == name) index_groups_.back().push_back(i);
  }
  slots_.resize(columns_.size());
  for (auto& s : slots_) s.text.reserve(64);
  reason_.reserve(256);
}

int RecordEncoder::find_column(std::string_view key) const {
  for (std::size_t i = 0; i < lower_names_.size(); ++i) {
    const std::string& name = lower_names_[i];
    if (name.size() != key.size()) continue;
    std::size_t j = 0;
    while (j < key.size() && ascii_lower(key[j]) == name[j]) ++j;
    if (j == key.size()) return static_cast<int>(i);
  }
  return -1;
}

Verdict RecordEncoder::encode(simdjson::ondemand::value record, std::string& out) {
  reason_.clear();
  simdjson::ondemand::object object;
  if (const auto err = record.get_object().get(object)) {
    json_type type{};
    if (err == simdjson::INCORRECT_TYPE && !record.type().get(type)) {
      reason_.append("record is ").append(describe(type)).append(", not an object");
      return Verdict::rejected;
    }
    return malformed(no_column, err);
  }
  return encode(object, out);
}

Verdict RecordEncoder::encode(simdjson::ondemand::object record, std::string& out) {
  reason_.clear();
  for (auto& slot : slots_) {
    slot.has_value = false;
    slot.bytes = 0;
  }
  for (auto field_result : record) {
    simdjson::ondemand::field field;
    if (const auto err = std::move(field_result).get(field)) return malformed(no_column, err);
    std::string_view key;
    if (const auto err = field.unescaped_key().get(key)) {
      reason_.append("invalid field name: ").append(simdjson::error_message(err));
      return Verdict::rejected;
    }
    const int col = find_column(key);
    if (col < 0) continue;  // unknown fields are skipped by the next iteration step
    if (const auto v = read_value(static_cast<std::size_t>(col), field.value()); v != Verdict::stored) return v;
  }
  for (const auto col : required_) {
    if (!slots_[col].has_value || slots_[col].text.empty()) {
      reason_.append("missing ").append(columns_[col].json_name);
      return Verdict::rejected;
    }
  }
  for (const auto& group : index_groups_) {
    std::size_t bytes = tenant_.size();
    for (const auto col : group) bytes += slots_[col].bytes;
    if (bytes <= max_indexed_bytes) continue;
    for (std::size_t i = 0; i < group.size(); ++i)
      reason_.append(i == 0 ? "" : i + 1 == group.size() ? " and " : ", ").append(columns_[group[i]].json_name);
    reason_.append(" together with the tenant are ").append(std::to_string(bytes));
    reason_.append(" bytes, more than the ").append(std::to_string(max_indexed_bytes));
    reason_.append(" a PostgreSQL index entry can hold");
    return Verdict::rejected;
  }
  emit(out);
  return Verdict::stored;
}

Verdict RecordEncoder::read_value(std::size_t col, simdjson::ondemand::value& value) {
  Slot& slot = slots_[col];
  slot.text.clear();  // a repeated field replaces the earlier one
  slot.has_value = false;
  slot.bytes = 0;
  json_type type;
  if (const auto err = value.type().get(type)) return malformed(col, err);
  if (type == json_type::null) {
    // type() only looks at the first byte; make sure it really is `null`.
    bool is_null = false;
    if (value.is_null().get(is_null) || !is_null)
      return reject_token(col, "invalid literal ", trim_json_space(value.raw_json_token()));
    return Verdict::stored;
  }
  switch (columns_[col].type) {
    case model::ColumnType::text: return read_text(col, value, type);
    case model::ColumnType::integer: return read_integer(col, value, type);
    case model::ColumnType::timestamptz: return read_timestamp(col, value, type);
    case model::ColumnType::text_array: return read_text_array(col, value, type);
  }
  return reject(col, "unsupported column type");
}

Verdict RecordEncoder::read_string(std::size_t col, simdjson::ondemand::value& value, std::string_view& s) {
  if (value.get_string().get(s))
    return reject_token(col, "invalid escape or unpaired surrogate in ", trim_json_space(value.raw_json_token()));
  if (std::memchr(s.data(), '\0', s.size()) != nullptr)
    return reject(col, "contains U+0000, which PostgreSQL text cannot store");
  return Verdict::stored;
}

Verdict RecordEncoder::read_text(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  Slot& slot = slots_[col];
  switch (type) {
    case json_type::string: {
      std::string_view s;
      if (const auto v = read_string(col, value, s); v != Verdict::stored) return v;
      append_text(slot.text, s);
      slot.bytes = s.size();
      break;
    }
    case json_type::number: {
      const std::string_view token = trim_json_space(value.raw_json_token());
      if (!is_json_number(token)) return reject_token(col, "invalid number ", token);
      slot.text.append(token);  // digits, sign, '.', 'e': nothing to escape
      slot.bytes = token.size();
      break;
    }
    case json_type::boolean: {
      bool b;
      if (value.get_bool().get(b))
        return reject_token(col, "invalid literal ", trim_json_space(value.raw_json_token()));
      slot.text.append(b ? "true" : "false");
      slot.bytes = slot.text.size();
      break;
    }
    default:
      return reject(col, std::string("expected a string, found ") + describe(type));
  }
  slot.has_value = true;
  return Verdict::stored;
}

Verdict RecordEncoder::read_integer(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  std::string_view digits;
  bool quoted = false;
  if (type == json_type::number) {
    digits = trim_json_space(value.raw_json_token());
    if (!is_json_number(digits)) return reject_token(col, "invalid number ", digits);
  } else if (type == json_type::string) {
    if (const auto v = read_string(col, value, digits); v != Verdict::stored) return v;
    if (digits.empty()) return Verdict::stored;  // "" is null, as the API sends it
    quoted = true;
  } else {
    return reject(col, std::string("expected an integer, found ") + describe(type));
  }
  std::int32_t n = 0;
  switch (parse_int32(digits, n)) {
    case IntParse::ok: break;
    case IntParse::not_integer: return reject_value(col, digits, quoted, " is not an integer");
    case IntParse::out_of_range: return reject_value(col, digits, quoted, " out of range for integer");
  }
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  slots_[col].text.append(buf, r.ptr);
  slots_[col].has_value = true;
  return Verdict::stored;
}

Verdict RecordEncoder::read_timestamp(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  if (type != json_type::string)
    return reject(col, std::string("expected a timestamp string, found ") + describe(type));
  std::string_view s;
  if (const auto v = read_string(col, value, s); v != Verdict::stored) return v;
  if (s.empty()) return Verdict::stored;  // "" is null
  if (!append_timestamptz(slots_[col].text, s)) return reject_quoted(col, "unparseable timestamp ", s);
  slots_[col].has_value = true;
  return Verdict::stored;
}

Verdict RecordEncoder::read_text_array(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  if (type != json_type::array)
    return reject(col, std::string("expected an array of strings, found ") + describe(type));
  simdjson::ondemand::array array;
  if (const auto err = value.get_array().get(array)) return malformed(col, err);
  Slot& slot = slots_[col];
  TextArrayWriter writer(slot.text);
  std::size_t index = 0;
  for (auto element_result : array) {
    simdjson::ondemand::value element;
    if (const auto err = std::move(element_result).get(element)) return malformed(col, err);
    json_type element_type;
    if (const auto err = element.type().get(element_type)) return malformed(col, err);
    if (element_type == json_type::string) {
      std::string_view s;
      if (const auto v = read_string(col, element, s); v != Verdict::stored) return v;
      writer.element(s);
    } else if (element_type == json_type::null) {
      bool is_null = false;
      if (element.is_null().get(is_null) || !is_null)
        return reject_token(col, "invalid literal ", trim_json_space(element.raw_json_token()));
      writer.null_element();
    } else {
      return reject(col, "element " + std::to_string(index) + " is " + describe(element_type) +
                             ", expected a string");
    }
    ++index;
  }
  writer.close();
  slot.has_value = true;
  return Verdict::stored;
}

void RecordEncoder::emit(std::string& out) const {
  out.append(tenant_field_);
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    out.push_back('\t');
    const Slot& slot = slots_[i];
    if (slot.has_value)
      out.append(slot.text);
    else if (!columns_[i].key)
      append_null(out);
    // A key column stores null as '' (primary keys cannot hold NULL).
  }
  out.push_back('\n');
}

Verdict RecordEncoder::reject(std::size_t col, std::string_view problem) {
  reason_.append(columns_[col].json_name).append(": ").append(problem);
  return Verdict::rejected;
}

Verdict RecordEncoder::reject_quoted(std::size_t col, std::string_view problem, std::string_view value) {
  reason_.append(columns_[col].json_name).append(": ").append(problem);
  append_quoted(reason_, value);
  return Verdict::rejected;
}

Verdict RecordEncoder::reject_token(std::size_t col, std::string_view problem, std::string_view token) {
  reason_.append(columns_[col].json_name).append(": ").append(problem);
  append_token(reason_, token);
  return Verdict::rejected;
}

Verdict RecordEncoder::reject_value(std::size_t col, std::string_view value, bool quoted, std::string_view suffix) {
  reason_.append(columns_[col].json_name).append(": ");
  if (quoted)
    append_quoted(reason_, value);
  else
    append_token(reason_, value);
  reason_.append(suffix);
  return Verdict::rejected;
}

Verdict RecordEncoder::malformed(std::size_t col, simdjson::error_code error) {
  if (col != no_column) reason_.append(columns_[col].json_name).append(": ");
  reason_.append("malformed JSON: ").append(simdjson::error_message(error));
  return Verdict::malformed;
}

}  // namespace mdesync::parse
