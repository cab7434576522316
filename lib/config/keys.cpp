#include "config/keys.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mdesync::config::detail {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Edit distance where swapping two neighbours counts once (optimal string
// alignment), compared case-insensitively: "page_sise", "Page_Size" and
// "pgae_size" all point at page_size.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[n][m];
}

}  // namespace

int line_of(const YAML::Node& node, int fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  const int line = node.Mark().line;
  return line < 0 ? fallback : line + 1;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "no value";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a sequence";
  if (node.Scalar().empty()) return "\"\"";
  return node.Scalar();
}

std::optional<std::string_view> closest(std::string_view word, std::span<const std::string_view> known) {
  // Short words are one slip from many others; only suggest what is plausible.
  const std::size_t limit = word.size() <= 3 ? 1 : 2;
  std::optional<std::string_view> best;
  std::size_t best_distance = limit + 1;
  for (const auto candidate : known) {
    const std::size_t d = edit_distance(word, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string unknown_key(std::string_view word, std::span<const std::string_view> known) {
  if (const auto guess = closest(word, known)) return "unknown key (did you mean " + std::string(*guess) + "?)";
  return "unknown key";
}

bool shape_ok(Shape shape, const YAML::Node& value) {
  switch (shape) {
    case Shape::scalar:
      return value.IsScalar();
    case Shape::sequence:
      return value.IsSequence();
    case Shape::map:
      return value.IsMap() || value.IsNull();  // an empty section keeps its defaults
    case Shape::any:
      return true;
  }
  return false;
}

std::optional<long long> to_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  long long value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> to_number(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

std::string list_names(std::span<const std::string_view> names) {
  std::string out;
  for (const auto name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace mdesync::config::detail
