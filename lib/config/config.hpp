#pragma once
// The configuration file, one options struct per area with named defaults.
// Key names are a contract: acceptance tests outside this repository write them.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/dataset.hpp"

namespace mdesync::config {

using std::chrono::milliseconds;

// database.distribution: auto lays the schema out for Citus when the database
// has the citus extension; none never does; citus requires it.
enum class Distribution { automatic, none, citus };

struct DatabaseOptions {
  static constexpr const char* default_schema = "mde";
  std::string url;                      // libpq URI or key=value conninfo
  std::string schema = default_schema;  // always quoted when used in SQL
  Distribution distribution = Distribution::automatic;
};

enum class Cloud { commercial, gcc, gcc_high, dod };

// How a tenant gets its tokens (tenant key `auth`, or the secret keys given):
// a client secret from a file or the environment, a certificate, or no secret
// at all: Azure's managed identity, or a Kubernetes workload identity.
enum class SecretKind { file, env, certificate, managed_identity, workload_identity };

// Where a managed identity's tokens come from: the Instance Metadata Service of
// a VM (or VM scale set, AKS node), or the endpoint App Service and Container
// Apps announce in IDENTITY_ENDPOINT / IDENTITY_HEADER.
enum class IdentityProtocol { imds, app_service };

struct SecretSource {
  SecretKind kind = SecretKind::file;
  std::string path;              // client_secret_file
  std::string env;               // client_secret_env
  std::string certificate_file;  // certificate_file (PEM)
  std::string private_key_file;  // private_key_file (PEM)
  // managed_identity only.
  std::string managed_identity_client_id;  // a user-assigned identity; empty: the system-assigned one
  std::string identity_endpoint;           // managed_identity_endpoint, IDENTITY_ENDPOINT, or IMDS's
  IdentityProtocol identity_protocol = IdentityProtocol::imds;
  bool operator==(const SecretSource&) const = default;
};

struct TenantOptions {
  std::string name;       // [a-z0-9_-]{1,63}
  std::string tenant_id;
  std::string client_id;
  SecretSource secret;
  Cloud cloud = Cloud::commercial;
  std::string region;     // empty: the global host
  std::string api_url;    // derived from cloud/region unless given
  std::string token_url;  // derived from cloud and tenant_id unless given
  std::string scope;      // derived unless given
  std::vector<model::Dataset> datasets{model::Dataset::cpe, model::Dataset::noncpe};
  // Certificate flow only: how the client assertion is signed, RS256 | PS256.
  std::string assertion_algorithm = "RS256";
  int line = 0;           // where the tenant starts in the file, for messages
};

enum class FullVia { export_files, json };

struct SyncOptions {
  milliseconds incremental_interval = std::chrono::hours(1);
  milliseconds full_interval = std::chrono::hours(24);
  milliseconds watermark_overlap = std::chrono::hours(1);
  int page_size = 50'000;  // 1..200000
  FullVia full_via = FullVia::export_files;
  double max_removal_ratio = 0.3;  // 0..1
  int download_concurrency = 4;    // 1..64
  // A full sync compares a tenant's rows by digest (8 bytes of memory a row) up to
  // this many current rows per data set; a larger tenant by digest for a share
  // of its rows this size, by key in PostgreSQL for the rest.
  int digest_rows_limit = 12'000'000;  // 0..1000000000; 0 = always PostgreSQL
  // A pull that makes no progress this long (no bytes from the API or storage,
  // no rows accepted by PostgreSQL, no statement completed) is given up.
  milliseconds stall_timeout = std::chrono::minutes(10);  // 30s..24h
};

// Per tenant; defaults are the documented quotas.
struct LimitsOptions {
  int json_per_minute = 30;
  int json_per_hour = 1000;
  int export_per_minute = 5;
  int export_per_hour = 20;
  bool operator==(const LimitsOptions&) const = default;
};

// The proxy https:// requests go through: http.proxy, or when that key is
// absent the conventional environment variables (https_proxy, HTTPS_PROXY).
struct ProxyOptions {
  std::string host;  // empty: no proxy, every connection is direct
  std::uint16_t port = 0;
  std::string user;  // Basic credentials; empty: none
  // The password: from a file or a variable named in the config, or, when the
  // proxy comes from the environment, the one its URL carries there (percent-
  // decoded; never written to any output).
  std::string password_file;
  std::string password_env;
  std::string password_from_url;
  std::string source;    // "http.proxy", "https_proxy", "HTTPS_PROXY"; empty: none set anywhere
  std::string ignored;   // "http.proxy: none" given while this variable is set: named by mdesync check
  std::string no_proxy;  // http.no_proxy, or no_proxy / NO_PROXY (see http/proxy.hpp for the rules)
  std::string no_proxy_source;
  bool operator==(const ProxyOptions&) const = default;

  bool enabled() const { return !host.empty(); }
  // "http://[user@]host:port", never a password.
  std::string display() const;
};

struct HttpOptions {
  std::string ca_file;  // extra trust anchors, added to the system store
  milliseconds timeout = std::chrono::seconds(300);
  ProxyOptions proxy;
  bool operator==(const HttpOptions&) const = default;
};

struct MetricsOptions {
  std::string listen;  // "host:port"; empty means no metrics endpoint
};

enum class LogLevel { debug, info, warn, error };
enum class LogFormat { text, json };

struct LogOptions {
  LogLevel level = LogLevel::info;
  LogFormat format = LogFormat::text;
};

struct Config {
  std::string source;  // path of the file it came from
  DatabaseOptions database;
  std::vector<TenantOptions> tenants;
  SyncOptions sync;
  LimitsOptions limits;
  HttpOptions http;
  MetricsOptions metrics;
  LogOptions log;

  const TenantOptions* find_tenant(const std::string& name) const;
};

// Every problem found, each "file:line: key.path: message".
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// Reads and validates; throws ConfigError listing every problem.
Config load_file(const std::filesystem::path& path);
// Same, from text; `source` names it in messages.
Config load_string(const std::string& yaml, const std::string& source);

// Only https://, or http:// to a loopback host (127.0.0.0/8, ::1, localhost).
bool url_allowed(const std::string& url, std::string* why = nullptr);

// "host:port" or "[v6-address]:port" (metrics.listen). The host keeps no
// brackets; the port is 1..65535. nullopt when the text is not of that shape.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<HostPort> parse_host_port(const std::string& text);

// Reads a file holding a secret (client secret, private key) with the checks
// read_client_secret applies: a regular file, not empty, and neither readable
// nor writable by group or others. Returns the bytes unchanged. `who` starts
// every message, e.g. "tenants[contoso]". Throws ConfigError.
std::string read_secret_file(const std::filesystem::path& path, const std::string& who);

// The client secret for a tenant using the file or env kind. Throws ConfigError
// naming the tenant when the file is missing, unreadable, empty, or readable
// by group or others, or when the variable is unset or empty.
std::string read_client_secret(const TenantOptions& tenant);

// The proxy's password, read now (a rotated file is picked up): from
// http.proxy_password_file (same checks as read_secret_file), from
// http.proxy_password_env, or from the environment's proxy URL. Empty when the
// proxy has no user. Throws ConfigError naming the key.
std::string read_proxy_password(const ProxyOptions& proxy);

// managed_identity with the app_service protocol: the value of IDENTITY_HEADER,
// which proves to the local identity endpoint that the caller runs in the app.
// Throws ConfigError naming the tenant when it is unset or empty.
std::string read_identity_header(const TenantOptions& tenant);

// workload_identity: the federated token in the file AZURE_FEDERATED_TOKEN_FILE
// names, read now (Kubernetes rotates it; every token request reads it again),
// without trailing whitespace. The file is the service account token
// Kubernetes projects, readable by others by default (mode 0644): a short-lived
// assertion, not a standing secret, so the mode is not checked; it must be a
// regular file, not empty, at most 1 MiB. Throws ConfigError naming the tenant.
std::string read_federated_token(const TenantOptions& tenant);

// Environment variables that managed and workload identity read.
inline constexpr const char* identity_endpoint_env = "IDENTITY_ENDPOINT";
inline constexpr const char* identity_header_env = "IDENTITY_HEADER";
inline constexpr const char* federated_token_file_env = "AZURE_FEDERATED_TOKEN_FILE";

// Azure's Instance Metadata Service token endpoint (link-local, plain http).
inline constexpr const char* imds_token_url = "http://169.254.169.254/metadata/identity/oauth2/token";

// Hosts derived from cloud and region (documented Microsoft endpoints).
std::string default_api_url(Cloud cloud, const std::string& region);
std::string default_token_url(Cloud cloud, const std::string& tenant_id);
std::string default_scope(Cloud cloud);

const char* to_string(Cloud cloud);

}  // namespace mdesync::config
