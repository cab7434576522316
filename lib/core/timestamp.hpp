#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mdesync {

// ISO 8601 UTC with milliseconds, the shape the API's examples use for sinceTime:
// 2021-05-19T18:35:49.924Z
std::string format_iso8601_utc(SystemTime t);

// Parses an RFC 7231 HTTP-date ("Sun, 06 Nov 1994 08:49:37 GMT").
std::optional<SystemTime> parse_http_date(std::string_view text);

// The one ISO 8601 lexer. The shapes the API, the export and PostgreSQL send:
//   YYYY-MM-DD                                  date only (midnight)
//   YYYY-MM-DD(T|t| )HH:MM[:SS[.fraction]]      no offset: UTC
//   ... followed by Z, z, ±HH, ±HHMM or ±HH:MM
// with a real calendar date (year 0001 on), hour <= 23, minute <= 59, second
// <= 60 (a leap second) and an offset of at most 23:59. A date alone takes no
// offset. Fraction digits are not limited here; callers that store text limit them.
// Lexing only points into `text` and never allocates: record parsing calls it
// for every timestamp field (parse/timestamp_text.hpp).
struct Iso8601Fields {
  int year = 0, month = 0, day = 0;
  int hour = 0, minute = 0, second = 0;
  int offset_minutes = 0;             // east of UTC; 0 for none or Z
  std::string_view date;              // "YYYY-MM-DD"
  std::string_view hh, mm, ss;        // two digits each as written; empty when absent
  std::string_view fraction;          // the digits after '.'; empty when absent
  char offset_sign = 0;               // '+' or '-'; 0 for no offset or Z
  std::string_view off_hh, off_mm;    // off_mm empty for "+05"
};
// False, leaving `out` in an unspecified state, when `text` is not one of those shapes.
[[nodiscard]] bool lex_iso8601(std::string_view text, Iso8601Fields& out);

// An ISO 8601 timestamp (lex_iso8601's shapes) as a point in time, as
// PostgreSQL returns them and the export's generatedTime uses. nullopt outside
// the years 1700..2200, beyond which SystemTime's arithmetic would overflow.
std::optional<SystemTime> parse_iso8601(std::string_view text);

}  // namespace mdesync
