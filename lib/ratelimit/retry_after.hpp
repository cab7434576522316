#pragma once
#include <chrono>
#include <optional>
#include <string_view>

#include "core/clock.hpp"

namespace mdesync::ratelimit {

// A Retry-After header value (RFC 9110 10.2.3): delay-seconds ("120") or an
// HTTP-date, turned into a wait from `now`. A date in the past is a zero wait.
// nullopt for anything else, including negative or fractional seconds and
// delays beyond max_retry_after_seconds; the caller decides how long it is
// willing to wait.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view header, SystemTime now);

// About 31 years: a larger number is not a delay anyone meant.
inline constexpr long long max_retry_after_seconds = 1'000'000'000;

}  // namespace mdesync::ratelimit
