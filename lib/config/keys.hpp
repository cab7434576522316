#pragma once
// Internal to lib/config: the machinery behind the key tables.
//
// Each section declares its keys once, PgBouncer style: the name, the kind of
// value, whether it is required, and the reader that converts and checks it.
// Defaults live in the options structs (config.hpp), so a table can never
// disagree with what a default-constructed struct holds: an absent key simply
// leaves its default in place, and a value that fails its check is never
// stored.
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <climits>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/problems.hpp"
#include "core/duration.hpp"

namespace mdesync::config::detail {

// 1-based line of a node. Values the parser made up (an empty `key:`) carry
// the position of whatever follows them, so callers pass the key's line.
int line_of(const YAML::Node& node, int fallback);
// For messages: "a map", "a sequence", "no value", or the scalar's text.
std::string describe(const YAML::Node& node);
// The known name `word` is most plausibly a typo of, if any.
std::optional<std::string_view> closest(std::string_view word, std::span<const std::string_view> known);
// "unknown key", with "(did you mean x?)" when a known key is close.
std::string unknown_key(std::string_view word, std::span<const std::string_view> known);

// What a key's value must look like before its reader sees it; checked in one
// place so every key gets the same "expected ..., got a map" message.
enum class Shape { scalar, sequence, map, any };
bool shape_ok(Shape shape, const YAML::Node& value);

// Scalar conversions; nullopt unless the whole text is the value.
std::optional<long long> to_integer(std::string_view text);
std::optional<double> to_number(std::string_view text);

// Converts one value into the section, adding a problem instead when it is bad.
template <typename S>
using Reader = std::function<void(const YAML::Node& value, const Where& at, S& out, Problems& problems)>;

template <typename S>
struct Key {
  std::string_view name;
  Shape shape;
  std::string expected;  // "an integer", "a duration like 90s, 15m, 1h or 2d", ...
  bool required;
  Reader<S> read;
};

// A check on a converted value: the problem, or nullopt when it is fine.
template <typename T>
using Check = std::function<std::optional<std::string>(const T&)>;

template <typename E>
struct Choice {
  std::string_view name;
  E value;
};

std::string list_names(std::span<const std::string_view> names);  // "a, b, c"

// The names of the keys given in a section, with the line of each, for checks
// that span keys (exactly one secret source, region only with commercial).
using Given = std::map<std::string, int, std::less<>>;

// Reads a map through its key table: unknown keys (with a did-you-mean),
// repeated keys, wrong shapes and missing required keys are all problems.
// An absent or empty section is an empty map.
template <typename S>
Given read_section(const YAML::Node& node, const Where& at, std::span<const Key<S>> keys, S& out, Problems& problems) {
  Given given;
  if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
    problems.add(at, "expected a map, got " + describe(node));
    return given;
  }
  std::vector<std::string_view> names;
  for (const auto& key : keys) names.push_back(key.name);
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const int line = line_of(entry.first, at.line);
      if (!entry.first.IsScalar()) {
        problems.add({at.path, line}, "keys must be plain names, got " + describe(entry.first));
        continue;
      }
      const std::string& name = entry.first.Scalar();
      const Where here = at.key(name, line);
      const Key<S>* key = nullptr;
      for (const auto& k : keys)
        if (k.name == name) key = &k;
      if (key == nullptr) {
        problems.add(here, unknown_key(name, names));
        continue;
      }
      if (const auto [first, inserted] = given.emplace(name, line); !inserted) {
        problems.add(here, "given twice (first on line " + std::to_string(first->second) + ")");
        continue;
      }
      if (!shape_ok(key->shape, entry.second)) {
        problems.add(here, "expected " + key->expected + ", got " + describe(entry.second));
        continue;
      }
      key->read(entry.second, here, out, problems);
    }
  }
  for (const auto& key : keys)
    if (key.required && !given.contains(key.name)) problems.add(at.key(key.name, at.line), "required");
  return given;
}

// ---- Builders for the common kinds of key --------------------------------
// `field` is a data member pointer or a callable returning a reference to the
// field, so nested fields (tenant.secret.path) work too.

template <typename S, typename F>
Key<S> string_key(std::string_view name, F field, bool required = false, Check<std::string> check = {}) {
  return {name, Shape::scalar, "a string", required,
          [field, check](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            const std::string& text = v.Scalar();
            if (check)
              if (auto why = check(text)) return problems.add(at, *why);
            std::invoke(field, out) = text;
          }};
}

template <typename S, typename F>
Key<S> int_key(std::string_view name, F field, int min, int max = INT_MAX) {
  return {name, Shape::scalar, "an integer", false,
          [field, min, max](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            const auto value = to_integer(v.Scalar());
            if (!value) return problems.add(at, "expected an integer, got " + describe(v));
            if (*value < min || *value > max) {
              const std::string range =
                  max == INT_MAX ? "at least " + std::to_string(min) : std::to_string(min) + ".." + std::to_string(max);
              return problems.add(at, "must be " + range + ", got " + v.Scalar());
            }
            std::invoke(field, out) = static_cast<int>(*value);
          }};
}

template <typename S, typename F>
Key<S> number_key(std::string_view name, F field, double min, double max, std::string_view range_text) {
  return {name, Shape::scalar, "a number", false,
          [field, min, max, range_text](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            const auto value = to_number(v.Scalar());
            if (!value) return problems.add(at, "expected a number, got " + describe(v));
            if (*value < min || *value > max)
              return problems.add(at, "must be " + std::string(range_text) + ", got " + v.Scalar());
            std::invoke(field, out) = *value;
          }};
}

inline constexpr std::string_view duration_expected = "a duration like 90s, 15m, 1h or 2d";

// `allow_zero`: a zero interval would spin; a zero overlap is fine.
template <typename S, typename F>
Key<S> duration_key(std::string_view name, F field, bool allow_zero) {
  return {name, Shape::scalar, std::string(duration_expected), false,
          [field, allow_zero](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            const auto value = parse_duration(v.Scalar());
            if (!value) return problems.add(at, "expected " + std::string(duration_expected) + ", got " + describe(v));
            if (!allow_zero && value->count() == 0)
              return problems.add(at, "must be greater than 0, got " + v.Scalar());
            std::invoke(field, out) = *value;
          }};
}

template <typename S, typename F>
Key<S> duration_range_key(std::string_view name, F field, std::chrono::milliseconds min,
                          std::chrono::milliseconds max) {
  return {name, Shape::scalar, std::string(duration_expected), false,
          [field, min, max](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            const auto value = parse_duration(v.Scalar());
            if (!value) return problems.add(at, "expected " + std::string(duration_expected) + ", got " + describe(v));
            if (*value < min || *value > max)
              return problems.add(at, "must be " + format_duration(min) + ".." + format_duration(max) + ", got " +
                                          v.Scalar());
            std::invoke(field, out) = *value;
          }};
}

// `choices` must outlive the table (a namespace-scope constexpr array).
template <typename S, typename F, typename E, std::size_t N>
Key<S> enum_key(std::string_view name, F field, const Choice<E> (&choice_array)[N]) {
  const std::span<const Choice<E>> choices(choice_array);
  std::vector<std::string_view> names;
  for (const auto& c : choices) names.push_back(c.name);
  std::string expected = "one of " + list_names(names);
  return {name, Shape::scalar, expected, false,
          [field, choices, expected](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            for (const auto& c : choices)
              if (c.name == v.Scalar()) {
                std::invoke(field, out) = c.value;
                return;
              }
            problems.add(at, "must be " + expected + ", got " + describe(v));
          }};
}

}  // namespace mdesync::config::detail
