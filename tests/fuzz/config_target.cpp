// Target 3: the config loader. Any text is either a Config that keeps the
// documented ranges or a ConfigError naming the file and line; nothing else may
// escape (a stray YAML::Exception would reach main as an unexplained failure).
#include <cmath>
#include <set>
#include <string>

#include "config/config.hpp"
#include "invariants.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

constexpr std::string_view source = "fuzz.yaml";

bool plain_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (const char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

void check_accepted(const config::Config& c) {
  check(c.source == source, "Config::source is not the name given");
  check(!c.database.url.empty(), "accepted an empty database.url");
  check(!c.database.schema.empty(), "accepted an empty database.schema");
  check(!c.tenants.empty(), "accepted a config without tenants");
  check(c.sync.page_size >= 1 && c.sync.page_size <= 200'000, "sync.page_size outside 1..200000");
  check(c.sync.download_concurrency >= 1 && c.sync.download_concurrency <= 64,
        "sync.download_concurrency outside 1..64");
  check(std::isfinite(c.sync.max_removal_ratio) && c.sync.max_removal_ratio >= 0 && c.sync.max_removal_ratio <= 1,
        "sync.max_removal_ratio outside 0..1");
  check(c.sync.incremental_interval.count() > 0 && c.sync.full_interval.count() > 0, "accepted a zero sync interval");
  check(c.limits.json_per_minute >= 1 && c.limits.json_per_hour >= 1 && c.limits.export_per_minute >= 1 &&
            c.limits.export_per_hour >= 1,
        "accepted a quota below 1");
  std::set<std::string> names;
  for (const auto& t : c.tenants) {
    check(plain_name(t.name), "accepted a tenant name outside [a-z0-9_-]{1,63}");
    check(names.insert(t.name).second, "accepted two tenants with one name");
    check(!t.datasets.empty(), "accepted a tenant without data sets");
    check(config::url_allowed(t.api_url) && config::url_allowed(t.token_url),
          "accepted a URL that url_allowed refuses");
  }
}

}  // namespace

void config(std::string_view input) {
  try {
    check_accepted(config::load_string(std::string(input), std::string(source)));
  } catch (const config::ConfigError& e) {
    check(!e.problems().empty(), "ConfigError without a problem");
    for (const auto& p : e.problems())
      check(p.starts_with(std::string(source) + ":"), "a problem does not start with the file name: " + p);
  }
}

}  // namespace mdesync::fuzz
