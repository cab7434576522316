#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace mdesync {

// Parses "90s", "15m", "1h", "2d" (also "500ms"); nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact spelling: 3600000ms -> "1h", 90000ms -> "90s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace mdesync
