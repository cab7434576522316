#pragma once
// The timestamp spellings the API uses, written straight into an output buffer.
// Each record field has its own shape, and clients must cope with all of them:
//   softwareFirstSeenTimestamp  2019-04-07 02:06:47
//   endOfSupportDate            2020-12-30T00:00:00+00:00
//   softwareLastSeenTimestamp   2021-01-30 11:31:12.271  or  2020-11-03 10:13:34.8476880
#include <cstdint>
#include <string>

#include "core/clock.hpp"

namespace mdesync::fakeapi {

// Ticks are 100 ns units since the Unix epoch (the resolution of the 7-digit fraction).
inline constexpr std::int64_t ticks_per_second = 10'000'000;

void append_date_time(std::string& out, std::int64_t unix_seconds);          // 2019-04-07 02:06:47
void append_offset_date_time(std::string& out, std::int64_t unix_seconds);   // 2020-12-30T00:00:00+00:00
void append_last_seen(std::string& out, std::int64_t ticks, bool seven_digits);

// RFC 7231 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(SystemTime t);

// Seconds since the epoch for a civil UTC date, for building fixed reference times.
std::int64_t unix_seconds(int year, unsigned month, unsigned day, int hour = 0, int minute = 0, int second = 0);

std::int64_t to_ticks(SystemTime t);
std::int64_t to_unix_seconds(SystemTime t);

}  // namespace mdesync::fakeapi

namespace mdesync::fakeapi {
// 2022-05-30T11:01:00Z (whole seconds), as the export's generatedTime and SAS times use.
std::string format_iso8601_seconds(SystemTime t);
}  // namespace mdesync::fakeapi
