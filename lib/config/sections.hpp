#pragma once
// Internal to lib/config: the key table of every section.
#include <span>
#include <vector>

#include "config/config.hpp"
#include "config/keys.hpp"

namespace mdesync::config::detail {

std::span<const Key<DatabaseOptions>> database_keys();
std::span<const Key<SyncOptions>> sync_keys();
std::span<const Key<LimitsOptions>> limits_keys();
std::span<const Key<HttpOptions>> http_keys();
std::span<const Key<MetricsOptions>> metrics_keys();
std::span<const Key<LogOptions>> log_keys();

// The http section through its key table, then the rules that span its proxy
// keys (a password needs a user, a user needs a password).
void read_http(const YAML::Node& node, const Where& at, HttpOptions& out, Problems& problems);
// After the whole file: the proxy from the environment when http.proxy is
// absent, and NO_PROXY when http.no_proxy is.
void resolve_proxy_environment(const Where& at, ProxyOptions& proxy, Problems& problems);

// Shared checks: a readable regular file; an environment variable name.
std::optional<std::string> check_readable_file(const std::string& path);
std::optional<std::string> check_env_name(const std::string& text);

// The tenants sequence: each entry through the tenant key table, then the
// rules that span keys (one secret source, region only in the commercial
// cloud, unique names) and the endpoints derived from cloud and region.
void read_tenants(const YAML::Node& list, const Where& at, std::vector<TenantOptions>& out, Problems& problems);

}  // namespace mdesync::config::detail
