#include "parse/record_encoder.hpp"

#include <charconv>
#include <cstring>
#include <limits>

#include "parse/copy_text.hpp"
#include "parse/json_value.hpp"
#include "core/quote.hpp"
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

bool is_digit(char c) { return c >= '0' && c <= '9'; }

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
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].key) key_columns_.push_back(i);
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
  alteration_.clear();
  extra_members_.clear();
  original_members_.clear();
  for (auto& slot : slots_) {
    slot.has_value = false;
    slot.bytes = 0;
    slot.altered = false;
  }
  for (auto field_result : record) {
    simdjson::ondemand::field field;
    if (const auto err = std::move(field_result).get(field)) return malformed(no_column, err);
    std::string_view key;
    if (const auto err = field.unescaped_key().get(key)) {
      reason_.append("invalid field name: ").append(simdjson::error_message(err));
      return Verdict::rejected;
    }
    field_key_ = key;
    const int col = find_column(key);
    const Verdict v = col < 0 ? read_undocumented(key, field.value())
                              : read_value(static_cast<std::size_t>(col), field.value());
    if (v != Verdict::stored) return v;
  }
  for (const auto col : required_) {
    if (!slots_[col].has_value || slots_[col].text.empty()) {
      reason_.append("missing ").append(columns_[col].json_name);
      return Verdict::rejected;
    }
  }
  std::size_t key_bytes = tenant_.size();
  for (const auto col : key_columns_) key_bytes += slots_[col].bytes;
  if (key_bytes > max_key_bytes) {
    for (std::size_t i = 0; i < key_columns_.size(); ++i)
      reason_.append(i == 0 ? "" : i + 1 == key_columns_.size() ? " and " : ", ")
          .append(columns_[key_columns_[i]].json_name);
    reason_.append(" together with the tenant are ").append(std::to_string(key_bytes));
    reason_.append(" bytes, more than the ").append(std::to_string(max_key_bytes));
    reason_.append(" the primary key can hold");
    return Verdict::rejected;
  }
  collect_alterations();
  emit(out);
  if (!original_members_.empty()) ++stats_.altered;
  return Verdict::stored;
}

Verdict RecordEncoder::read_undocumented(std::string_view key, simdjson::ondemand::value value) {
  scratch_clean_.clear();
  scratch_original_.clear();
  std::string problem;
  const JsonCopy copy = copy_json_value(value, scratch_clean_, scratch_original_, problem);
  if (copy == JsonCopy::invalid) {
    append_token(reason_, key);
    reason_.append(": ").append(problem);
    return Verdict::rejected;
  }
  if (!extra_members_.empty()) extra_members_.push_back(',');
  const bool key_fixed = fix_nul(key, fixed_);
  append_jsonb_string(extra_members_, key_fixed ? std::string_view(fixed_) : key);
  extra_members_.push_back(':');
  extra_members_.append(scratch_clean_);
  if (copy == JsonCopy::altered || key_fixed) {
    // The name or the value could not be kept as sent. (An undocumented field
    // itself named "_original" would collide with this member; the API has none.)
    if (!original_members_.empty()) original_members_.push_back(',');
    append_jsonb_string(original_members_, key);
    original_members_.push_back(':');
    append_jsonb_string(original_members_, scratch_original_);
    if (!alteration_.empty()) alteration_.append("; ");
    append_token(alteration_, key);
    alteration_.append(": altered to fit jsonb");
  }
  if (key_fixed) key = fixed_;
  const auto it = stats_.undocumented.find(key);
  if (it != stats_.undocumented.end())
    ++it->second;
  else
    stats_.undocumented.emplace(std::string(key), 1);
  return Verdict::stored;
}

void RecordEncoder::altered(std::size_t col, std::string_view original, std::string_view what) {
  Slot& slot = slots_[col];
  slot.altered = true;
  slot.original.assign(original);
  slot.sent_name = field_key_;
  slot.what = what;
}

void RecordEncoder::collect_alterations() {
  // Undocumented fields wrote theirs as they came; documented ones follow in column order.
  for (std::size_t col = 0; col < slots_.size(); ++col) {
    const Slot& slot = slots_[col];
    if (!slot.altered) continue;
    if (!original_members_.empty()) original_members_.push_back(',');
    append_jsonb_string(original_members_, slot.sent_name);
    original_members_.push_back(':');
    append_jsonb_string(original_members_, slot.original);
    if (!alteration_.empty()) alteration_.append("; ");
    alteration_.append(columns_[col].json_name).append(": ").append(slot.what);
  }
}

Verdict RecordEncoder::read_value(std::size_t col, simdjson::ondemand::value& value) {
  Slot& slot = slots_[col];
  slot.text.clear();  // a repeated field replaces the earlier one
  slot.has_value = false;
  slot.bytes = 0;
  slot.altered = false;
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

Verdict RecordEncoder::read_string(std::size_t col, simdjson::ondemand::value& value, std::string_view& s,
                                   bool& nul_fixed) {
  if (value.get_string().get(s))
    return reject_token(col, "invalid escape or unpaired surrogate in ", trim_json_space(value.raw_json_token()));
  nul_fixed = fix_nul(s, fixed_);
  if (nul_fixed) s = fixed_;
  return Verdict::stored;
}

Verdict RecordEncoder::read_text(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  Slot& slot = slots_[col];
  switch (type) {
    case json_type::string: {
      std::string_view s;
      bool nul_fixed = false;
      if (const auto v = read_string(col, value, s, nul_fixed); v != Verdict::stored) return v;
      append_text(slot.text, s);
      slot.bytes = s.size();
      if (nul_fixed) altered(col, trim_json_space(value.raw_json_token()), "U+0000 removed");
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
  // Whatever is not an integer in range is stored as NULL, its JSON kept in _original.
  const auto not_integer = [&](std::string_view original, std::string_view why) {
    altered(col, original, why);
    return Verdict::stored;
  };
  std::string_view digits;
  std::string_view token = trim_json_space(value.raw_json_token());
  bool nul_fixed = false;
  if (type == json_type::number) {
    digits = token;
    if (!is_json_number(digits)) return reject_token(col, "invalid number ", digits);
  } else if (type == json_type::string) {
    if (const auto v = read_string(col, value, digits, nul_fixed); v != Verdict::stored) return v;
    if (digits.empty()) {  // "" is null, as the API sends it
      if (nul_fixed) altered(col, token, "U+0000 removed");
      return Verdict::stored;
    }
  } else if (type == json_type::boolean) {
    bool b;
    if (value.get_bool().get(b)) return reject_token(col, "invalid literal ", token);
    return not_integer(token, "not an integer, stored as NULL");
  } else {
    // An object or array: its whole JSON text is the original.
    scratch_clean_.clear();
    scratch_original_.clear();
    std::string problem;
    if (copy_json_value(value, scratch_clean_, scratch_original_, problem) == JsonCopy::invalid)
      return reject(col, problem);
    return not_integer(scratch_original_, "not an integer, stored as NULL");
  }
  std::int32_t n = 0;
  switch (parse_int32(digits, n)) {
    case IntParse::ok: break;
    case IntParse::not_integer: return not_integer(token, "not an integer, stored as NULL");
    case IntParse::out_of_range: return not_integer(token, "out of range for integer, stored as NULL");
  }
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  slots_[col].text.append(buf, r.ptr);
  slots_[col].has_value = true;
  if (nul_fixed) altered(col, token, "U+0000 removed");
  return Verdict::stored;
}

Verdict RecordEncoder::read_timestamp(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  if (type != json_type::string)
    return reject(col, std::string("expected a timestamp string, found ") + describe(type));
  std::string_view s;
  bool nul_fixed = false;
  if (const auto v = read_string(col, value, s, nul_fixed); v != Verdict::stored) return v;
  const std::string_view token = trim_json_space(value.raw_json_token());
  if (s.empty()) {  // "" is null
    if (nul_fixed) altered(col, token, "U+0000 removed");
    return Verdict::stored;
  }
  if (!append_timestamptz(slots_[col].text, s)) return reject_quoted(col, "unparseable timestamp ", s);
  slots_[col].has_value = true;
  if (nul_fixed) altered(col, token, "U+0000 removed");
  return Verdict::stored;
}

Verdict RecordEncoder::read_text_array(std::size_t col, simdjson::ondemand::value& value, json_type type) {
  if (type != json_type::array)
    return reject(col, std::string("expected an array of strings, found ") + describe(type));
  simdjson::ondemand::array array;
  if (const auto err = value.get_array().get(array)) return malformed(col, err);
  Slot& slot = slots_[col];
  TextArrayWriter writer(slot.text);
  // The array as sent, kept in case an element has to be altered.
  std::string& original = scratch_original_;
  original.assign("[");
  bool nul_fixed_any = false;
  std::size_t index = 0;
  for (auto element_result : array) {
    simdjson::ondemand::value element;
    if (const auto err = std::move(element_result).get(element)) return malformed(col, err);
    json_type element_type;
    if (const auto err = element.type().get(element_type)) return malformed(col, err);
    const std::string_view token = trim_json_space(element.raw_json_token());
    if (element_type == json_type::string) {
      std::string_view s;
      bool nul_fixed = false;
      if (const auto v = read_string(col, element, s, nul_fixed); v != Verdict::stored) return v;
      writer.element(s);
      nul_fixed_any |= nul_fixed;
    } else if (element_type == json_type::null) {
      bool is_null = false;
      if (element.is_null().get(is_null) || !is_null) return reject_token(col, "invalid literal ", token);
      writer.null_element();
    } else {
      return reject(col, "element " + std::to_string(index) + " is " + describe(element_type) +
                             ", expected a string");
    }
    if (index != 0) original.push_back(',');
    original.append(token);
    ++index;
  }
  writer.close();
  original.push_back(']');
  slot.has_value = true;
  if (nul_fixed_any) altered(col, original, "U+0000 removed");
  return Verdict::stored;
}

void RecordEncoder::emit(std::string& out) {
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
  out.push_back('\t');
  if (extra_members_.empty() && original_members_.empty()) {
    append_null(out);
  } else {
    extra_json_.assign("{");
    extra_json_.append(extra_members_);
    if (!original_members_.empty()) {
      if (!extra_members_.empty()) extra_json_.push_back(',');
      extra_json_.append("\"_original\":{").append(original_members_).push_back('}');
    }
    extra_json_.push_back('}');
    append_text(out, extra_json_);
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
