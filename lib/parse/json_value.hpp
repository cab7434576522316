#pragma once
// Any JSON value, as simdjson On-Demand hands it out, copied as text PostgreSQL's
// jsonb accepts, and beside it the value as it was sent. Used for the fields the
// API sends beyond the documented ones (extra_fields) and for the original of a
// value that had to be altered to be stored (extra_fields._original).
//
// Why not just the raw bytes: On-Demand does not check values it skips, and one
// value jsonb refuses fails the whole COPY batch, every sync. jsonb refuses
// U+0000 in strings, unpaired surrogates, unescaped control characters and
// numbers beyond numeric's range; each of those is altered here and reported.
#include <simdjson.h>

#include <string>
#include <string_view>

namespace mdesync::parse {

enum class JsonCopy {
  exact,    // `clean` holds the value as sent
  altered,  // `clean` differs from what was sent (see the header comment)
  invalid,  // not valid JSON (a bad literal, number or key escape): `problem` says why
};

// Appends the value to `clean` (jsonb-safe JSON text) and to `original` (the value
// as sent: its tokens verbatim, whitespace between them dropped). On invalid,
// both may hold a partial value: the caller discards them.
JsonCopy copy_json_value(simdjson::ondemand::value value, std::string& clean, std::string& original,
                         std::string& problem);

// The RFC 8259 number grammar: On-Demand leaves scalars it is not asked to
// convert unchecked.
bool is_json_number(std::string_view token);

// A field's name as it appears in the input, escapes and all, without its quotes.
// Call it before field.unescaped_key(), which consumes the key.
std::string_view raw_key(const simdjson::ondemand::field& field);

// raw_json_token() runs up to the next token, so it carries trailing whitespace.
std::string_view trim_json_space(std::string_view s);

// U+0000 cannot be stored in PostgreSQL text: trailing ones are dropped (real
// tenants send names ending in one), any other becomes U+FFFD. Returns whether
// `s` held one; `fixed` then holds the stored form (else it is untouched).
bool fix_nul(std::string_view s, std::string& fixed);

// Appends `s` as a JSON string (quotes included) that jsonb accepts: `"`, `\`
// and control characters escaped, a NUL byte spelled as the text \u0000.
void append_jsonb_string(std::string& out, std::string_view s);

}  // namespace mdesync::parse
