// The key tables for every section but tenants (see tenants.cpp). Defaults are
// the ones in config.hpp's structs; the tables say only what may be written.
#include "config/sections.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/expand.hpp"

namespace mdesync::config::detail {
namespace {

// PostgreSQL's unquoted identifier, lower case only so the name reads the same
// quoted or not; 63 bytes is NAMEDATALEN - 1.
std::optional<std::string> check_identifier(const std::string& text) {
  bool ok = !text.empty() && text.size() <= 63 && !(text[0] >= '0' && text[0] <= '9');
  for (const char c : text)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) ok = false;
  if (ok) return std::nullopt;
  return "must be a valid identifier [a-z_][a-z0-9_]{0,62}, got " + (text.empty() ? std::string("\"\"") : text);
}

std::optional<std::string> check_not_empty(const std::string& text) {
  if (text.empty()) return "must not be empty";
  return std::nullopt;
}

std::optional<std::string> check_listen(const std::string& text) {
  if (parse_host_port(text)) return std::nullopt;
  return "expected host:port or [v6-address]:port, got " + (text.empty() ? std::string("\"\"") : text);
}

constexpr Choice<Distribution> distribution_choices[] = {
    {"auto", Distribution::automatic}, {"none", Distribution::none}, {"citus", Distribution::citus}};
constexpr Choice<FullVia> full_via_choices[] = {{"export", FullVia::export_files}, {"json", FullVia::json}};
constexpr Choice<LogLevel> level_choices[] = {
    {"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn}, {"error", LogLevel::error}};
constexpr Choice<LogFormat> format_choices[] = {{"text", LogFormat::text}, {"json", LogFormat::json}};

}  // namespace

// The extra trust anchors are read when the HTTP client starts; a file that
// is not there should stop the daemon now, with the key's line, not then.
std::optional<std::string> check_readable_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return "cannot read " + path + ": " + std::strerror(errno);
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  ::close(fd);
  if (!regular) return "cannot read " + path + ": not a regular file";
  return std::nullopt;
}

std::span<const Key<DatabaseOptions>> database_keys() {
  using S = DatabaseOptions;
  // url is never echoed in a message: it may carry a password.
  static const Key<S> keys[] = {
      string_key<S>("url", &S::url, true, check_not_empty),
      string_key<S>("schema", &S::schema, false, check_identifier),
      enum_key<S>("distribution", &S::distribution, distribution_choices),
  };
  return keys;
}

std::span<const Key<SyncOptions>> sync_keys() {
  using S = SyncOptions;
  static const Key<S> keys[] = {
      duration_key<S>("incremental_interval", &S::incremental_interval, false),
      duration_key<S>("full_interval", &S::full_interval, false),
      duration_key<S>("watermark_overlap", &S::watermark_overlap, true),
      int_key<S>("page_size", &S::page_size, 1, 200'000),
      enum_key<S>("full_via", &S::full_via, full_via_choices),
      number_key<S>("max_removal_ratio", &S::max_removal_ratio, 0.0, 1.0, "0..1"),
      int_key<S>("download_concurrency", &S::download_concurrency, 1, 64),
      int_key<S>("digest_rows_limit", &S::digest_rows_limit, 0, 1'000'000'000),
      duration_range_key<S>("stall_timeout", &S::stall_timeout, std::chrono::seconds(30), std::chrono::hours(24)),
  };
  return keys;
}

std::span<const Key<LimitsOptions>> limits_keys() {
  using S = LimitsOptions;
  static const Key<S> keys[] = {
      int_key<S>("json_per_minute", &S::json_per_minute, 1),
      int_key<S>("json_per_hour", &S::json_per_hour, 1),
      int_key<S>("export_per_minute", &S::export_per_minute, 1),
      int_key<S>("export_per_hour", &S::export_per_hour, 1),
  };
  return keys;
}

std::span<const Key<MetricsOptions>> metrics_keys() {
  using S = MetricsOptions;
  static const Key<S> keys[] = {
      string_key<S>("listen", &S::listen, false, check_listen),
  };
  return keys;
}

std::span<const Key<LogOptions>> log_keys() {
  using S = LogOptions;
  static const Key<S> keys[] = {
      enum_key<S>("level", &S::level, level_choices),
      enum_key<S>("format", &S::format, format_choices),
  };
  return keys;
}

}  // namespace mdesync::config::detail
