#include "options.hpp"

#include <charconv>
#include <functional>
#include <map>

namespace mdesync::fakeapi {
namespace {

constexpr std::string_view default_tenant = "00000000-0000-0000-0000-000000000001";
constexpr std::string_view default_client = "11111111-2222-3333-4444-555555555555";

template <typename Int>
bool to_int(const std::string& s, Int& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

std::string usage() {
  return R"(mde-fakeapi: a local simulator of the Microsoft Defender for Endpoint software inventory API
and the Azure AD token endpoint, for testing mdesync.

Usage: mde-fakeapi [options]

Listening
  --listen HOST:PORT         address to listen on (default 127.0.0.1:0; port 0 picks a free port).
                             Plain HTTP is refused on anything but loopback.
  --port-file FILE           write the bound port (digits and a newline) once listening
  --threads N                I/O threads (default 4)
  --tls                      serve HTTPS
  --cert FILE --key FILE     server certificate chain and key (PEM); without them --tls generates an
                             EC P-256 key and a self-signed certificate for IP:127.0.0.1, DNS:localhost
  --ca-out FILE              write the served certificate (PEM) here; clients load it as an extra CA

Identity (POST /<tenant>/oauth2/v2.0/token)
  --tenant-id ID             a tenant to simulate; repeatable, each with its own data and quotas
                             (default )" + std::string(default_tenant) + R"()
  --client-id ID             the registered application (default )" + std::string(default_client) + R"()
  --client-secret-file FILE  an accepted client_secret (file content, trailing newline ignored);
                             repeatable: several secrets valid at once, as while one is rotated
  --client-cert FILE         PEM certificate whose RSA key verifies client assertions (RS256 with x5t,
                             PS256 with x5t#S256)
  --expected-scope SCOPE     (default https://api.securitycenter.microsoft.com/.default)
  --token-lifetime SECONDS   access token lifetime (default 3599)
  --no-permission            data endpoints answer 403 (Software.Read.All not consented)

Managed identity (tokens for the first tenant; GET /metadata/identity/oauth2/token, header Metadata: true)
  --managed-identity         this "machine" has a system-assigned identity
  --user-assigned-identity CLIENT_ID  and a user-assigned one (repeatable), asked for with client_id=
  --identity-header-file FILE  also serve App Service's GET /msi/token?api-version=2019-08-01, which wants
                             X-IDENTITY-HEADER: <file content> (what IDENTITY_HEADER holds in the app)

Workload identity (a federated credential on the app registration --client-id names)
  --workload-identity        accept client assertions that are service account tokens of this issuer,
                             minted by POST /_admin/federated-token (RS256, aud api://AzureADTokenExchange)
  --federated-issuer URL     the trusted issuer (default https://oidc.fakeapi.test/cluster)
  --federated-subject SUB    the trusted subject (default system:serviceaccount:mdesync:mdesync)

Data
  --devices N                devices per tenant (default 100; ~20 CPE and ~8 non-CPE records each)
  --seed S                   generator seed (default 1); same seed and tenant id give the same data
  --cpe-per-device X         mean CPE records per device (default 20)
  --noncpe-per-device X      mean non-CPE records per device (default 8; 0: none)
  --gzip                     compress JSON answers when the request accepts gzip

Quotas (per tenant, sliding windows; 0 disables a window)
  --json-per-minute N        (default 30)     --json-per-hour N    (default 1000)
  --export-per-minute N      (default 5)      --export-per-hour N  (default 20)

Exports
  --export-files N           files per export snapshot (default 3; with --export-layout rbac, Spark
                             tasks that each write one file per RBAC group they hold records of)
  --export-layout flat|rbac  export file names (default flat: "<DataSet>-<tenant>-<n>-part-00000.json.gz");
                             rbac: the real service's Spark output, "<ExportName>/<date>/OrgId=<tenant>/
                             _RbacGroupId=<n>/part-00337-<uuid>.c000.json.gz", the same file name under
                             several groups, part numbers with gaps, c001 spill files.
                             Also POST /_admin/export-layout?layout=flat|rbac
  --export-crlf              end NDJSON lines with \r\n instead of \n
  --export-revoke-after-downloads N  after N files served, every SAS URL issued so far expires (once)

Faults (data endpoints only; also settable at run time with POST /_admin/faults?NAME=VALUE)
  --fault-seed S             seed of the fault sequence (default 1)
  --fault-5xx-rate P         answer 500 or 503
  --fault-429-rate P         answer 429 with Retry-After even under quota (not a violation)
  --fault-retry-after SEC    Retry-After of injected 429s (default 1)
  --fault-reset-rate P       close the connection without answering
  --fault-truncate-rate P    send the full Content-Length but only half the body, then close
  --fault-slow-rate P        answer after --fault-slow-ms MS (default 2000)
  --fault-malformed-rate P   200 with a body that is not valid JSON
  --fault-html-rate P        200 with Content-Type text/html and an HTML login page (wrong content type)
  --token-expire-after-pages N  a token is rejected (401) after serving N data pages
  --fault-export-truncate-rate P  export file: complete response, gzip stream cut short
  --fault-export-reset-rate P     export file: connection closed mid-body
  --fault-sas-expired-rate P      export file: 403 AuthenticationFailed, as for an expired SAS
  --fault-export-empty-rate P     export file: 200 with Content-Length: 0 and no body (not even a gzip header)
  --fault-start-after N      the first N requests that draw a fault pass untouched (default 0)
  --fault-count N            at most N faults, then none (default 0: no limit); both count from
                             start-up or the latest POST /_admin/faults

Test hooks
  --next-link-base URL       build @odata.nextLink on scheme://host URL instead of the request's Host
                             (to prove clients refuse links to foreign hosts)

Diagnostics
  --log-requests             one line per request on stderr (no query strings, no credentials)
  --help                     this text

Admin endpoints (loopback only, no authentication)
  POST /_admin/mutate?tenant=ID&installs=N&uninstalls=N&upgrades=N&reassess=N&seed=S
  GET  /_admin/truth?tenant=ID&dataset=cpe|noncpe
  GET  /_admin/stats            POST /_admin/reset-stats
  GET|POST /_admin/faults?...   POST /_admin/expire-tokens
  POST /_admin/regenerate?tenant=ID[&dataset=cpe|noncpe][&on_export=K][&repeat=N]
                                the K-th export request from now (default 1) and the N-1 after it
                                (default N=1) each build a new snapshot
  POST /_admin/expire-exports   GET|POST /_admin/export-layout[?layout=flat|rbac]
  POST /_admin/federated-token[?lifetime=S][&not_before=S][&subject=][&issuer=][&audience=]
                                a service account token (body: the JWT), times in seconds from now
  POST /_admin/identity?deny=true|false  managed identity requests answer 403 access_denied
  GET  /_admin/tenants
)";
}

OptionsOrError parse_options(const std::vector<std::string>& args) {
  OptionsOrError out;
  Options o;
  std::vector<std::string> tenants;
  std::string client_id(default_client);
  std::map<std::string, std::function<std::string(const std::string&)>, std::less<>> with_value;
  std::map<std::string, std::function<void()>, std::less<>> flags;
  const auto number = [](auto& field, const char* what) {
    return [&field, what](const std::string& v) -> std::string {
      return to_int(v, field) ? std::string() : std::string(what) + " must be a non-negative integer";
    };
  };
  const auto real = [](double& field, const char* what, bool zero_ok = false) {
    return [&field, what, zero_ok](const std::string& v) -> std::string {
      try {
        std::size_t pos = 0;
        field = std::stod(v, &pos);
        if (pos == v.size() && (field > 0 || (zero_ok && field == 0))) return {};
      } catch (...) {
      }
      return std::string(what) + (zero_ok ? " must be a non-negative number" : " must be a positive number");
    };
  };
  auto& s = o.service;
  with_value["listen"] = [&](const std::string& v) -> std::string {
    const auto colon = v.rfind(':');
    if (colon == std::string::npos) return "--listen must be HOST:PORT";
    std::string host = v.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    o.listen_host = host;
    return to_int(v.substr(colon + 1), o.port) ? std::string() : "--listen port must be 0..65535";
  };
  with_value["port-file"] = [&](const std::string& v) { o.port_file = v; return std::string(); };
  with_value["threads"] = number(o.threads, "--threads");
  with_value["cert"] = [&](const std::string& v) { o.cert_file = v; return std::string(); };
  with_value["key"] = [&](const std::string& v) { o.key_file = v; return std::string(); };
  with_value["ca-out"] = [&](const std::string& v) { o.ca_out = v; return std::string(); };
  with_value["tenant-id"] = [&](const std::string& v) {
    if (v.empty() || v.find('/') != std::string::npos) return std::string("--tenant-id must be non-empty without '/'");
    tenants.push_back(v);
    return std::string();
  };
  with_value["client-id"] = [&](const std::string& v) { client_id = v; return std::string(); };
  with_value["client-secret-file"] = [&](const std::string& v) {
    o.client_secret_files.push_back(v);
    return std::string();
  };
  with_value["client-cert"] = [&](const std::string& v) { o.client_cert_file = v; return std::string(); };
  with_value["user-assigned-identity"] = [&](const std::string& v) {
    if (v.empty()) return std::string("--user-assigned-identity must not be empty");
    s.identity.user_assigned.push_back(v);
    return std::string();
  };
  with_value["identity-header-file"] = [&](const std::string& v) { o.identity_header_file = v; return std::string(); };
  with_value["federated-issuer"] = [&](const std::string& v) { s.federation.issuer = v; return std::string(); };
  with_value["federated-subject"] = [&](const std::string& v) { s.federation.subject = v; return std::string(); };
  with_value["expected-scope"] = [&](const std::string& v) { s.expected_scope = v; return std::string(); };
  with_value["token-lifetime"] = [&](const std::string& v) -> std::string {
    std::int64_t secs;
    if (!to_int(v, secs) || secs <= 0) return "--token-lifetime must be seconds > 0";
    s.token_lifetime = std::chrono::seconds(secs);
    return {};
  };
  with_value["next-link-base"] = [&](const std::string& v) -> std::string {
    if (!v.starts_with("http://") && !v.starts_with("https://")) return "--next-link-base must be an http(s) URL";
    s.next_link_base = v;
    while (s.next_link_base.ends_with('/')) s.next_link_base.pop_back();
    return {};
  };
  with_value["devices"] = number(s.generator.devices, "--devices");
  with_value["seed"] = number(s.generator.seed, "--seed");
  with_value["cpe-per-device"] = real(s.generator.cpe_per_device, "--cpe-per-device");
  with_value["noncpe-per-device"] = real(s.generator.noncpe_per_device, "--noncpe-per-device", true);
  with_value["json-per-minute"] = number(s.quotas.json_per_minute, "--json-per-minute");
  with_value["json-per-hour"] = number(s.quotas.json_per_hour, "--json-per-hour");
  with_value["export-per-minute"] = number(s.quotas.export_per_minute, "--export-per-minute");
  with_value["export-per-hour"] = number(s.quotas.export_per_hour, "--export-per-hour");
  with_value["export-files"] = [&](const std::string& v) -> std::string {
    if (!to_int(v, s.exports.files) || s.exports.files == 0 || s.exports.files > 1000)
      return "--export-files must be 1..1000";
    return {};
  };
  with_value["export-layout"] = [&](const std::string& v) -> std::string {
    const auto layout = parse_export_layout(v);
    if (!layout) return "--export-layout must be flat or rbac";
    s.exports.layout = *layout;
    return {};
  };
  with_value["export-revoke-after-downloads"] = number(s.exports.revoke_after_downloads,
                                                       "--export-revoke-after-downloads");
  flags["tls"] = [&] { o.tls = true; };
  flags["no-permission"] = [&] { s.no_permission = true; };
  flags["managed-identity"] = [&] { s.identity.system_assigned = true; };
  flags["workload-identity"] = [&] { s.federation.enabled = true; };
  flags["gzip"] = [&] { s.gzip = true; };
  flags["export-crlf"] = [&] { s.exports.crlf = true; };
  flags["log-requests"] = [&] { s.log_requests = true; };
  flags["help"] = [&] { o.help = true; };

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) {
      out.error = "unexpected argument '" + arg + "'";
      return out;
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (const auto f = flags.find(name); f != flags.end()) {
      if (has_value) {
        out.error = "--" + name + " takes no value";
        return out;
      }
      f->second();
      continue;
    }
    const bool fault = is_fault_option(name);
    const auto h = with_value.find(name);
    if (!fault && h == with_value.end()) {
      out.error = "unknown option --" + name;
      return out;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        out.error = "--" + name + " needs a value";
        return out;
      }
      value = args[++i];
    }
    const std::string err = fault ? set_fault_option(s.faults, name, value) : h->second(value);
    if (!err.empty()) {
      out.error = err.starts_with("--") ? err : "--" + err;
      return out;
    }
  }
  if (o.help) {
    out.options = std::move(o);
    return out;
  }
  if (tenants.empty()) tenants.emplace_back(default_tenant);
  s.tenants = std::move(tenants);
  s.client_id = client_id;
  s.tls = o.tls;
  if (o.cert_file.empty() != o.key_file.empty()) {
    out.error = "--cert and --key go together";
    return out;
  }
  if (!o.tls && (!o.cert_file.empty() || !o.ca_out.empty())) {
    out.error = "--cert, --key and --ca-out need --tls";
    return out;
  }
  if (!o.identity_header_file.empty() && !s.identity.enabled()) {
    out.error = "--identity-header-file needs --managed-identity or --user-assigned-identity";
    return out;
  }
  if (o.threads == 0) o.threads = 1;
  out.options = std::move(o);
  return out;
}

}  // namespace mdesync::fakeapi
