#pragma once
// The simulated service, free of any HTTP library: a parsed request in, a response and
// what to do on the wire out. server.cpp (Beast) only moves bytes; everything a test
// wants to check about behaviour lives here and is tested without sockets.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "certificate.hpp"
#include "core/clock.hpp"
#include "faults.hpp"
#include "federated_token.hpp"
#include "injection.hpp"
#include "inventory.hpp"
#include "model/dataset.hpp"
#include "quota.hpp"
#include "record_json.hpp"
#include "stats.hpp"
#include "token_store.hpp"
#include "url.hpp"

namespace mdesync::fakeapi {

inline constexpr std::string_view default_scope = "https://api.securitycenter.microsoft.com/.default";

struct QuotaSettings {
  std::uint32_t json_per_minute = 30;
  std::uint32_t json_per_hour = 1000;
  std::uint32_t export_per_minute = 5;
  std::uint32_t export_per_hour = 20;
};

// How export file names look. flat: one directory, "<DataSet>-<tenant>-<snapshot>-part-00000.json.gz".
// rbac: the real service's Spark output, partitioned by RBAC group, so that file names repeat
// across directories: "<ExportName>/<date>/OrgId=<tenant>/_RbacGroupId=<n>/part-00337-<uuid>.c000.json.gz".
enum class ExportLayout { flat, rbac };

std::optional<ExportLayout> parse_export_layout(std::string_view name);
std::string_view export_layout_name(ExportLayout layout);

struct ExportSettings {
  std::uint32_t files = 3;  // files per export snapshot (flat); Spark tasks, each writing one file per group (rbac)
  ExportLayout layout = ExportLayout::flat;  // initial layout; POST /_admin/export-layout changes it
  bool crlf = false;        // "\r\n" line ends instead of "\n"
  // After this many files served in full, every SAS URL issued so far expires
  // (once): a deterministic "the URLs expired mid-download". 0 = never.
  std::uint32_t revoke_after_downloads = 0;
  int gzip_level = 1;
};

// Azure managed identity: the identities "this machine" has, and how it is asked.
struct IdentitySettings {
  bool system_assigned = false;             // --managed-identity
  std::vector<std::string> user_assigned;   // --user-assigned-identity CLIENT_ID (repeatable)
  // App Service / Container Apps (GET /msi/token): the X-IDENTITY-HEADER value
  // the app must send (--identity-header-file); empty: that endpoint is off.
  std::string identity_header;
  bool enabled() const { return system_assigned || !user_assigned.empty(); }
};

// Workload identity: one federated credential on the app registration
// (--workload-identity), trusting this issuer and subject.
struct FederationSettings {
  bool enabled = false;
  std::string issuer = "https://oidc.fakeapi.test/cluster";
  std::string subject = "system:serviceaccount:mdesync:mdesync";
};

struct ServiceConfig {
  std::vector<std::string> tenants;
  std::string client_id;
  // Accepted client secrets: an app registration may have several valid at once
  // (while one is rotated), and each tenant's credentials may differ.
  std::vector<std::string> client_secrets;
  std::optional<Certificate> client_certificate;
  std::string expected_scope{default_scope};
  std::chrono::seconds token_lifetime{3599};
  bool no_permission = false;
  GeneratorOptions generator;
  QuotaSettings quotas;
  FaultSettings faults;
  ExportSettings exports;
  bool gzip = false;
  bool log_requests = false;
  bool tls = false;         // the scheme clients use: URLs we build and the assertion audience
  std::string blob_secret;  // HMAC key for SAS signatures; random when empty
  std::string next_link_base;  // test hook: nextLinks point at this scheme://host instead
  IdentitySettings identity;   // tokens for the first tenant
  FederationSettings federation;
};

struct HttpRequest {
  std::string method;
  std::string target;  // origin-form: path and query
  std::string host;    // Host header
  std::string authorization;
  std::string accept_encoding;
  std::string range;
  std::string metadata;         // the Metadata header (IMDS requires "true")
  std::string identity_header;  // X-IDENTITY-HEADER (App Service's identity endpoint)
  bool forwarded = false;       // X-Forwarded-For present: IMDS refuses proxied requests
  std::string body;
  bool from_loopback = true;
};

enum class WireAction {
  send,      // the whole response
  reset,     // close the connection without answering
  truncate,  // headers with the full Content-Length, body[0, truncate_at), then close
};

struct HttpResponse {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  WireAction action = WireAction::send;
  std::size_t truncate_at = 0;
  std::chrono::milliseconds delay{0};  // wait before answering (slow fault)

  void set(std::string_view name, std::string value);
  const std::string* header(std::string_view name) const;
};

class Service {
 public:
  // Generates every tenant's data (in parallel) before returning.
  Service(ServiceConfig config, const Clock& clock);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Thread-safe; blocks for the time it takes to build the answer.
  HttpResponse handle(const HttpRequest& request);

  const Stats& stats() const { return stats_; }
  const ServiceConfig& config() const { return config_; }
  std::size_t record_count(std::string_view tenant, model::Dataset dataset) const;

 private:
  enum class Family { json, exports };

  struct ExportSnapshot {
    std::uint64_t data_version = 0;
    std::uint64_t generation = 0;  // bumped by /_admin/regenerate
    bool valid = false;
    ExportLayout layout = ExportLayout::flat;
    SystemTime generated_time{};
    std::vector<std::string> blob_names;
  };

  // POST /_admin/regenerate: export requests to let pass on the current snapshot, then how many
  // export requests in a row each build a new one.
  struct ScheduledRegeneration {
    std::uint64_t exports_before = 0;
    std::uint64_t remaining = 0;
  };

  struct Tenant {
    std::string id;
    mutable std::shared_mutex data_mutex;
    std::unique_ptr<TenantData> data;
    std::unique_ptr<RecordWriter> writer;

    std::mutex quota_mutex;
    SlidingWindowQuota json_quota;
    SlidingWindowQuota export_quota;
    SteadyTime json_retry_not_before{};
    SteadyTime export_retry_not_before{};

    std::mutex export_mutex;
    ExportSnapshot snapshots[2];  // by model::Dataset
    std::uint64_t regenerations[2] = {0, 0};
    ScheduledRegeneration scheduled_regenerations[2];  // by model::Dataset, guarded by export_mutex
    std::deque<std::vector<std::string>> old_blobs[2];  // guarded by blob_mutex_
  };

  struct Blob {
    std::shared_ptr<const std::string> data;
    SystemTime created;
    std::string etag;
  };

  // What handle() learns while routing, for stats and the request log.
  struct Context {
    std::string path_key = "other";
    std::string tenant;
    Fault fault = Fault::none;
    bool gzip_ok = false;  // JSON answer that may be compressed
  };

  HttpResponse route(const HttpRequest& req, Context& ctx);
  HttpResponse handle_token(const HttpRequest& req, std::string_view tenant_id, Context& ctx);
  // GET /metadata/identity/oauth2/token (IMDS) and GET /msi/token (App Service).
  HttpResponse handle_identity(const HttpRequest& req, const Params& query, bool imds, Context& ctx);
  // A federated client_assertion: nullopt when accepted, else the AADSTS refusal.
  std::optional<HttpResponse> check_federated(std::string_view assertion);
  HttpResponse issue_token(Tenant& tenant);
  HttpResponse handle_data(const HttpRequest& req, const Params& query, model::Dataset dataset, bool export_call,
                           Context& ctx);
  HttpResponse handle_page(const HttpRequest& req, const Params& query, Tenant& tenant, model::Dataset dataset);
  HttpResponse handle_export(const HttpRequest& req, const Params& query, Tenant& tenant, model::Dataset dataset);
  HttpResponse handle_blob(const HttpRequest& req, std::string_view path, const Params& query, Context& ctx);
  HttpResponse handle_admin(const HttpRequest& req, std::string_view path, const Params& query, Context& ctx);

  // Admission of one data request for a tenant and family: early-retry accounting and
  // the quota windows. Returns a 429 when the request is over quota.
  std::optional<HttpResponse> admit(Tenant& tenant, Family family);
  void note_retry_after(Tenant& tenant, Family family, std::int64_t seconds);

  // Counts one export request against the data set's scheduled regeneration, if any.
  void take_scheduled_regeneration(Tenant& tenant, model::Dataset dataset);
  const ExportSnapshot& current_snapshot(Tenant& tenant, model::Dataset dataset);
  void tenant_history_push(Tenant& tenant, int idx, std::vector<std::string> names);
  std::string sas_url(std::string_view base, const std::string& blob_name, SystemTime start, SystemTime expiry) const;
  std::string sas_signature(std::string_view path, std::string_view start, std::string_view expiry) const;

  Tenant* find_tenant(std::string_view id) const;
  std::string base_url(const HttpRequest& req) const;

  // Response builders.
  HttpResponse api_error(unsigned status, std::string_view code, std::string_view message) const;
  HttpResponse aad_error(unsigned status, std::string_view error, int code, std::string_view description) const;
  HttpResponse storage_error(unsigned status, std::string_view code, std::string_view message,
                             std::string_view detail = {}) const;
  HttpResponse json(unsigned status, std::string body) const;
  HttpResponse unauthorized(std::string_view message, bool token_present) const;

  ServiceConfig config_;
  const Clock& clock_;
  std::map<std::string, std::unique_ptr<Tenant>, std::less<>> tenants_;
  TokenStore tokens_;
  FaultInjector faults_;
  Stats stats_;
  Injections injections_;  // test hook: crafted records and pages (/_admin/inject)
  std::unique_ptr<FederatedIssuer> federated_issuer_;  // with config_.federation.enabled
  std::atomic<bool> identity_denied_{false};           // POST /_admin/identity?deny=true

  mutable std::mutex blob_mutex_;
  std::map<std::string, Blob, std::less<>> blobs_;
  std::uint64_t snapshot_counter_ = 0;
  std::atomic<ExportLayout> export_layout_{ExportLayout::flat};  // takes effect at the next snapshot built
  // Test hook (POST /_admin/blob-base): SAS URLs point at this scheme://host[:port]
  // instead of the host the export request came to, so storage can be a host of
  // its own (behind a proxy that fails on its own). Guarded by blob_mutex_.
  std::string blob_base_;
  SystemTime sas_revoked_before_{};
  std::uint32_t blob_downloads_ = 0;  // guarded by blob_mutex_  // SAS URLs whose start is at or before this are expired
};

}  // namespace mdesync::fakeapi
