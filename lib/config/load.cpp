// YAML text -> Config: the top-level key table, each section read through its
// own table, every problem collected and thrown once.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/sections.hpp"

namespace mdesync::config {
namespace detail {
namespace {

// A section key: its value goes through the section's own table.
template <typename T>
Key<Config> section(std::string_view name, T Config::*field, std::span<const Key<T>> (*keys)(), bool required = false) {
  return {name, Shape::map, "a map", required,
          [field, keys](const YAML::Node& v, const Where& at, Config& out, Problems& problems) {
            read_section(v, at, keys(), out.*field, problems);
          }};
}

std::span<const Key<Config>> root_keys() {
  static const Key<Config> keys[] = {
      section("database", &Config::database, database_keys, true),
      {"tenants", Shape::sequence, "a sequence of tenants", true,
       [](const YAML::Node& v, const Where& at, Config& out, Problems& problems) {
         read_tenants(v, at, out.tenants, problems);
       }},
      section("sync", &Config::sync, sync_keys),
      section("limits", &Config::limits, limits_keys),
      {"http", Shape::map, "a map", false,
       [](const YAML::Node& v, const Where& at, Config& out, Problems& problems) {
         read_http(v, at, out.http, problems);
       }},
      section("metrics", &Config::metrics, metrics_keys),
      section("log", &Config::log, log_keys),
  };
  return keys;
}

}  // namespace
}  // namespace detail

Config load_string(const std::string& yaml, const std::string& source) {
  detail::Problems problems(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    problems.add({"", e.mark.line < 0 ? 1 : e.mark.line + 1}, "YAML syntax error: " + e.msg);
    problems.throw_if_any();
  }
  Config config;
  config.source = source;
  // The whole file is the top-level section; an empty file is an empty map,
  // which then reports the required sections.
  const detail::Where top{"", 1};
  if (root.IsDefined() && !root.IsNull() && !root.IsMap())
    problems.add(top, "expected a map of sections (database, tenants, ...), got " + detail::describe(root));
  else
    detail::read_section(root, top, detail::root_keys(), config, problems);
  detail::resolve_proxy_environment(top, config.http.proxy, problems);
  problems.throw_if_any();
  return config;
}

Config load_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path.string() + ": cannot read: " + std::strerror(errno)});
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError({path.string() + ": cannot read: " + std::strerror(errno)});
  return load_string(text.str(), path.string());
}

const TenantOptions* Config::find_tenant(const std::string& name) const {
  for (const auto& t : tenants)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace mdesync::config
