#pragma once
// Request-target and form parsing without any HTTP library: percent-decoding, query
// parameters looked up case-insensitively (the service accepts pageSize and pagesize).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdesync::fakeapi {

// Decodes %XX and, when plus_is_space (forms and query strings), '+'. nullopt on a bad escape.
std::optional<std::string> url_decode(std::string_view s, bool plus_is_space = true);
// Encoding is core's percent_encode (core/url.hpp), the daemon's own.

bool iequals(std::string_view a, std::string_view b);

class Params {
 public:
  // Parses "a=1&b=2" (a query string or an application/x-www-form-urlencoded body).
  // Returns nullopt when an escape is malformed.
  static std::optional<Params> parse(std::string_view text);

  // First value of `name`, compared case-insensitively.
  const std::string* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Target {
  std::string_view path;
  std::string_view query;  // without '?'
};
Target split_target(std::string_view target);

}  // namespace mdesync::fakeapi
