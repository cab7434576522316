#include "config/problems.hpp"

#include <algorithm>

#include "config/config.hpp"

namespace mdesync::config {
namespace {

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(join_lines(problems)), problems_(std::move(problems)) {}

namespace detail {

Where Where::key(std::string_view name, int key_line) const {
  return {path.empty() ? std::string(name) : path + "." + std::string(name), key_line};
}

Where Where::index(std::size_t i, int element_line) const {
  return {path + "[" + std::to_string(i) + "]", element_line};
}

void Problems::add(const Where& at, std::string_view message) {
  std::string text = source_ + ":" + std::to_string(at.line) + ": ";
  if (!at.path.empty()) text += at.path + ": ";
  text += message;
  entries_.push_back({at.line, std::move(text)});
}

void Problems::throw_if_any() const {
  if (entries_.empty()) return;
  // Stable: problems on one line keep the order they were found in.
  auto sorted = entries_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> lines;
  lines.reserve(sorted.size());
  for (auto& e : sorted) lines.push_back(std::move(e.text));
  throw ConfigError(std::move(lines));
}

}  // namespace detail
}  // namespace mdesync::config
