#pragma once
// Internal to lib/config. Collects every problem found while reading a file,
// so one run tells the user everything that is wrong instead of one thing at
// a time.
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::config::detail {

// Where a value sits in the file: its key path and its 1-based line.
struct Where {
  std::string path;  // "tenants[0].api_url"; empty for the top level
  int line = 1;

  Where key(std::string_view name, int key_line) const;
  Where index(std::size_t i, int element_line) const;
};

class Problems {
 public:
  explicit Problems(std::string source) : source_(std::move(source)) {}

  // Adds "source:line: path: message" (or "source:line: message" at the top).
  void add(const Where& at, std::string_view message);
  bool empty() const { return entries_.empty(); }
  // Throws ConfigError listing every problem, in line order, if there is any.
  void throw_if_any() const;

 private:
  struct Entry {
    int line;
    std::string text;
  };
  std::string source_;
  std::vector<Entry> entries_;
};

}  // namespace mdesync::config::detail
