#include "core/log.hpp"

#include <cstdio>
#include <mutex>

#include "core/clock.hpp"
#include "core/json_escape.hpp"
#include "core/timestamp.hpp"

namespace mdesync::log {
namespace {

struct State {
  Level level = Level::info;
  Format format = Format::text;
  bool timestamps = true;
  std::mutex mutex;
};

State& state() {
  static State s;
  return s;
}

const char* name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  return false;
}

void append_escaped(std::string& out, std::string_view v) { append_json_escaped(out, v); }

}  // namespace

void configure(Level level, Format format, bool timestamps) {
  auto& s = state();
  std::lock_guard lock(s.mutex);
  s.level = level;
  s.format = format;
  s.timestamps = timestamps;
}

Level level() { return state().level; }
bool enabled(Level l) { return static_cast<int>(l) >= static_cast<int>(state().level); }

std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields, Format format,
                        bool timestamps) {
  std::string out;
  out.reserve(128);
  const std::string ts = timestamps ? format_iso8601_utc(RealClock::instance().now_utc()) : std::string();
  if (format == Format::json) {
    out += '{';
    if (timestamps) out += "\"ts\":\"" + ts + "\",";
    out += "\"level\":\"";
    out += name(level);
    out += "\",\"event\":\"";
    append_escaped(out, event);
    out += '"';
    for (const auto& f : fields) {
      out += ",\"";
      append_escaped(out, f.key);
      out += "\":\"";
      append_escaped(out, f.value);
      out += '"';
    }
    out += '}';
    return out;
  }
  if (timestamps) out += "ts=" + ts + " ";
  out += "level=";
  out += name(level);
  out += " event=";
  if (needs_quotes(event)) {
    out += '"';
    append_escaped(out, event);
    out += '"';
  } else {
    out.append(event);
  }
  for (const auto& f : fields) {
    out += ' ';
    out.append(f.key);
    out += '=';
    if (needs_quotes(f.value)) {
      out += '"';
      append_escaped(out, f.value);
      out += '"';
    } else {
      out += f.value;
    }
  }
  return out;
}

void write(Level l, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(l)) return;
  auto& s = state();
  std::string line = format_line(l, event, fields, s.format, s.timestamps);
  line += '\n';
  std::lock_guard lock(s.mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string redact_url(std::string_view url) {
  const auto q = url.find('?');
  if (q == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, q)) + "?<redacted>";
}

std::string redact(std::string text, std::initializer_list<std::string_view> secrets) {
  static constexpr std::string_view redacted = "<redacted>";
  for (const auto secret : secrets) {
    if (secret.empty()) continue;
    // Searching on after the replacement: a secret inside "<redacted>" is not found again.
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + redacted.size()))
      text.replace(at, secret.size(), redacted);
  }
  return text;
}

}  // namespace mdesync::log
