#include "ratelimit/retry_after.hpp"

#include <charconv>

#include "core/timestamp.hpp"

namespace mdesync::ratelimit {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view header, SystemTime now) {
  const std::string_view text = trim(header);
  if (text.empty()) return std::nullopt;
  if (text.front() >= '0' && text.front() <= '9') {
    long long seconds = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc{} || ptr != text.data() + text.size() || seconds > max_retry_after_seconds) return std::nullopt;
    return std::chrono::seconds(seconds);
  }
  const auto date = parse_http_date(text);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::milliseconds::zero();
  return std::chrono::ceil<std::chrono::milliseconds>(*date - now);
}

}  // namespace mdesync::ratelimit
