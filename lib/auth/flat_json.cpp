#include "auth/flat_json.hpp"

#include <simdjson.h>

#include <charconv>

namespace mdesync::auth {
namespace {

// "3599": expires_in as some endpoints send it. Digits only, so no sign, no space.
std::optional<std::int64_t> digit_string(std::string_view text) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> json_integer(simdjson::dom::element value) {
  std::int64_t v = 0;
  // Doubles (3.0, 1e3) and integers past int64 are no integer of ours.
  if (!value.is_int64() || value.get_int64().get(v)) return std::nullopt;
  return v;
}

}  // namespace

std::optional<FlatJson> FlatJson::parse(std::string_view text) {
  // The DOM parser validates the whole document before we look at it, nested
  // values we skip included; On-Demand would check only what we read.
  simdjson::dom::parser parser;
  if (parser.allocate(text.size(), max_depth)) return std::nullopt;
  simdjson::dom::object object;
  if (parser.parse(simdjson::padded_string(text)).get_object().get(object)) return std::nullopt;
  FlatJson out;
  for (const auto field : object) {
    Member m;
    m.key = std::string(field.key);
    const auto value = field.value;
    std::string_view s;
    simdjson::dom::array array;
    if (!value.get_string().get(s)) {
      m.string = std::string(s);
      m.integer = digit_string(s);
    } else if (!value.get_array().get(array)) {
      for (const auto element : array)
        if (const auto v = json_integer(element)) m.integers.push_back(*v);
    } else {
      m.integer = json_integer(value);
    }
    out.members_.push_back(std::move(m));
  }
  return out;
}

const FlatJson::Member* FlatJson::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.key == key) return &m;
  return nullptr;
}

bool FlatJson::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<std::string> FlatJson::string(std::string_view key) const {
  const auto* m = find(key);
  return m ? m->string : std::nullopt;
}

std::optional<std::int64_t> FlatJson::integer(std::string_view key) const {
  const auto* m = find(key);
  return m ? m->integer : std::nullopt;
}

std::vector<std::int64_t> FlatJson::integers(std::string_view key) const {
  const auto* m = find(key);
  return m ? m->integers : std::vector<std::int64_t>{};
}

}  // namespace mdesync::auth
