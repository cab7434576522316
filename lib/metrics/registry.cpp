#include "metrics/registry.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace mdesync::metrics {
namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':');
    const bool digit = c >= '0' && c <= '9';
    if (!alpha && !(digit && i > 0)) return false;
  }
  return true;
}

void check_metric_name(std::string_view name) {
  if (!valid_name(name, true)) throw std::invalid_argument("metrics: invalid metric name '" + std::string(name) + "'");
}

// Sorted by label name so the same set given in another order is the same
// series; duplicate and reserved (__*) names are programming errors.
Labels normalise(const Labels& labels) {
  Labels sorted = labels;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const std::string& n = sorted[i].first;
    if (!valid_name(n, false) || n.starts_with("__"))
      throw std::invalid_argument("metrics: invalid label name '" + n + "'");
    if (i > 0 && sorted[i - 1].first == n) throw std::invalid_argument("metrics: duplicate label '" + n + "'");
  }
  return sorted;
}

const char* type_name(bool counter) { return counter ? "counter" : "gauge"; }

}  // namespace

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "NaN";  // cannot happen: 64 bytes hold any shortest double
  return std::string(buf, end);
}

Registry::Family& Registry::family(std::string_view name, Type implied) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    check_metric_name(name);
    it = families_.emplace(std::string(name), Family{implied, {}, {}}).first;
  }
  return it->second;
}

void Registry::describe(std::string_view name, std::string_view type, std::string_view help) {
  Type t;
  if (type == "counter") t = Type::counter;
  else if (type == "gauge") t = Type::gauge;
  else throw std::invalid_argument("metrics: type must be counter or gauge, got '" + std::string(type) + "'");
  std::lock_guard lock(mutex_);
  const bool existed = families_.find(name) != families_.end();
  Family& f = family(name, t);
  if (existed && f.type != t)
    throw std::invalid_argument("metrics: " + std::string(name) + " is already a " +
                                type_name(f.type == Type::counter));
  f.help = std::string(help);
}

void Registry::add(std::string_view name, const Labels& labels, double delta) {
  Labels key = normalise(labels);
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::counter);
  // A counter that went down would read as a process restart to rate().
  if (f.type == Type::counter && !(delta >= 0))
    throw std::invalid_argument("metrics: counter " + std::string(name) + " cannot decrease");
  f.series[std::move(key)] += delta;
}

void Registry::set(std::string_view name, const Labels& labels, double value) {
  Labels key = normalise(labels);
  std::lock_guard lock(mutex_);
  Family& f = family(name, Type::gauge);
  if (f.type != Type::gauge) throw std::invalid_argument("metrics: set() on counter " + std::string(name));
  f.series[std::move(key)] = value;
}

std::optional<double> Registry::value(std::string_view name, const Labels& labels) const {
  Labels key = normalise(labels);
  std::lock_guard lock(mutex_);
  const auto fit = families_.find(name);
  if (fit == families_.end()) return std::nullopt;
  const auto sit = fit->second.series.find(key);
  if (sit == fit->second.series.end()) return std::nullopt;
  return sit->second;
}

std::string Registry::render() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + type_name(f.type == Type::counter) + "\n";
    for (const auto& [labels, v] : f.series) {
      out += name;
      if (!labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
          if (i > 0) out += ',';
          out += labels[i].first + "=\"" + escape_label_value(labels[i].second) + "\"";
        }
        out += '}';
      }
      out += ' ' + format_value(v) + '\n';
    }
  }
  return out;
}

}  // namespace mdesync::metrics
