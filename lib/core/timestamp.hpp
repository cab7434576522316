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

// Parses an ISO 8601 timestamp with an optional fraction and an optional offset
// (no offset means UTC), as PostgreSQL returns and the export's generatedTime uses.
std::optional<SystemTime> parse_iso8601(std::string_view text);

}  // namespace mdesync
