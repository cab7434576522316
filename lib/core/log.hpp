#pragma once
// One line per event, key=value (or JSON), fixed keys: tenant, dataset, rows, duration_ms, error.
// Callers never pass secrets; redact_url() strips query strings (SAS signatures, skip tokens).
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace mdesync::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };
enum class Format { text, json };

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  template <typename Int, typename = std::enable_if_t<std::is_arithmetic_v<Int>>>
  Field(std::string_view k, Int v) : key(k), value(std::to_string(v)) {}
};

void configure(Level level, Format format, bool timestamps);
Level level();
bool enabled(Level level);
void write(Level level, std::string_view event, std::initializer_list<Field> fields);

inline void debug(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::debug, e, f); }
inline void info(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::info, e, f); }
inline void warn(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::warn, e, f); }
inline void error(std::string_view e, std::initializer_list<Field> f = {}) { write(Level::error, e, f); }

// Formats one line without writing it (for tests and for the sink).
std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields, Format format,
                        bool timestamps);

// "https://host/path?sig=..." -> "https://host/path?<redacted>"
std::string redact_url(std::string_view url);

// `text` with every occurrence of each non-empty secret replaced by "<redacted>":
// for server text (error bodies) that might echo what we sent.
std::string redact(std::string text, std::initializer_list<std::string_view> secrets);

}  // namespace mdesync::log
