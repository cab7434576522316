#include "core/duration.hpp"

#include <charconv>
#include <cstdint>

namespace mdesync {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc{} || ptr == begin || value < 0) return std::nullopt;
  std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  std::int64_t factor = 0;
  if (unit == "ms") factor = 1;
  else if (unit == "s") factor = 1000;
  else if (unit == "m") factor = 60'000;
  else if (unit == "h") factor = 3'600'000;
  else if (unit == "d") factor = 86'400'000;
  else return std::nullopt;
  // Ten years is far beyond any sensible interval; refusing more keeps the arithmetic safe.
  if (value > 10 * 366 * 86'400'000LL / factor) return std::nullopt;
  return std::chrono::milliseconds(value * factor);
}

std::string format_duration(std::chrono::milliseconds d) {
  const std::int64_t ms = d.count();
  struct Unit { std::int64_t factor; const char* suffix; };
  static constexpr Unit units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  if (ms != 0) {
    for (const auto& u : units)
      if (ms % u.factor == 0) return std::to_string(ms / u.factor) + u.suffix;
  }
  return std::to_string(ms) + (ms == 0 ? "s" : "ms");
}

}  // namespace mdesync
