#pragma once
// API timestamps -> text PostgreSQL's timestamptz input reads one way only.
//
// The API sends several shapes for the same kind of value:
//   2019-04-07 02:06:47            2021-01-30 11:31:12.271
//   2020-11-03 10:13:34.8476880    2020-12-30T00:00:00+00:00
//   2021-05-19T18:35:49.924Z       2021-05-19 (date only)
// A value without an offset is UTC. Left as is, PostgreSQL would read it in the
// session's TimeZone, so every output carries an explicit offset. The shapes are
// core's lex_iso8601 (core/timestamp.hpp), the one ISO 8601 lexer.
#include <string>
#include <string_view>

namespace mdesync::parse {

// Most fraction digits accepted. PostgreSQL rounds to microseconds itself; the
// limit only keeps absurd input out of the field.
inline constexpr std::size_t max_fraction_digits = 12;

// Validates `text` and appends it as `YYYY-MM-DD HH:MM:SS[.fraction](+00|±HH:MM)`,
// keeping the given fraction digits. Returns false and appends nothing when `text`
// is not one of the accepted shapes or names an impossible date or time.
[[nodiscard]] bool append_timestamptz(std::string& out, std::string_view text);

}  // namespace mdesync::parse
