// The mdesync binary where enterprises run it: behind an HTTPS proxy (a real
// CONNECT proxy thread, tests/support/connect_proxy) and without secrets
// (the simulator's IMDS endpoint and its federated-assertion check). The
// simulator's name, api.mde.test, resolves nowhere but in the proxy, so rows
// that arrive prove every request (token, pages, export files) went through
// it. Nothing here reaches 169.254.169.254 or any address outside loopback:
// every endpoint is configured to the simulator on 127.0.0.1.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config/config.hpp"
#include "support/connect_proxy.hpp"
#include "support/fake_api.hpp"
#include "support/scoped_env.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

const std::string kHost = "api.mde.test";
const std::string kProxyUser = "svc-mdesync";
const std::string kProxyPassword = "zz-proxy-pw-zz";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The simulator over TLS with a certificate for api.mde.test (and 127.0.0.1,
// for the harness's own admin calls), and a proxy that knows the name.
class ProxySync : public ::testing::Test {
 protected:
  ProxySync() {
    const auto cert = make_self_signed(kHost, {"DNS:" + kHost, "IP:127.0.0.1"});
    cert_file_ = dir_.write("api.pem", cert.certificate_pem).string();
    key_file_ = dir_.write("api.key", cert.private_key_pem).string();
    password_file_ = dir_.write("proxy-password", kProxyPassword + "\n").string();
    ::chmod(password_file_.c_str(), 0600);
  }

  std::unique_ptr<FakeApi> start_api(std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--tls", "--cert", cert_file_, "--key", key_file_, "--ca-out",
                               (dir_.path() / "served.pem").string()});
    return std::make_unique<FakeApi>(flags, 20);
  }
  static ConnectProxyOptions proxy_options(bool authenticate) {
    ConnectProxyOptions o;
    o.hosts[kHost] = "127.0.0.1";
    if (authenticate) {
      o.user = kProxyUser;
      o.password = kProxyPassword;
    }
    return o;
  }
  // The simulator by name; `proxy_lines` under http:.
  ConfigOptions options(const FakeApi& api, const std::string& schema, const std::string& proxy_lines) const {
    const std::string origin = "https://" + kHost + ":" + api.base_url().substr(api.base_url().rfind(':') + 1);
    ConfigOptions o{.schema = schema};
    o.api_url = origin;
    o.token_url = origin + "/" + fake_tenant_id + "/oauth2/v2.0/token";
    o.ca_file = cert_file_;
    o.extra_http = proxy_lines;
    return o;
  }
  std::string authenticated(const ConnectProxy& proxy) const {
    return "  proxy: http://" + kProxyUser + "@127.0.0.1:" + std::to_string(proxy.port()) +
           "\n  proxy_password_file: " + password_file_ + "\n";
  }

  TempDir dir_;
  std::string cert_file_, key_file_, password_file_;
};

TEST_F(ProxySync, FullExportAndIncrementalSyncGoThroughAnAuthenticatingProxyWhichSeesOnlyConnectLines) {
  TempSchema schema("proxy");
  const auto api = start_api();
  ConnectProxy proxy(proxy_options(true));
  auto o = options(*api, schema.name(), authenticated(proxy));
  o.full_via = "export";  // the export files come from the storage host, through the proxy too
  const auto config = write_config(dir_, *api, o);

  const auto full = run_mdesync(config, {"sync", "--mode", "full", "--dataset", "cpe"});
  ASSERT_EQ(full.exit_code, 0) << full.output;
  expect_table_equals_truth(*api, schema.name(), Dataset::cpe);
  const auto incremental = run_mdesync(config, {"sync", "--mode", "incremental", "--dataset", "cpe"});
  ASSERT_EQ(incremental.exit_code, 0) << incremental.output;
  EXPECT_TRUE(contains(api->admin_get("/_admin/stats"), "/api/machines")) << "no API call arrived";

  // The proxy's own log: CONNECT lines for the host, each authenticated, nothing else.
  const auto log = proxy.log();
  ASSERT_FALSE(log.empty());
  const std::string port = o.api_url.substr(o.api_url.rfind(':') + 1);
  for (const auto& line : log) EXPECT_EQ(line, "CONNECT " + kHost + ":" + port + " 200 user=" + kProxyUser);
  // Everything any client sent it, tunnels included: no secret, token, path or signature readable.
  const std::string seen = proxy.seen();
  for (const std::string& secret : {fake_secret, std::string("client_secret"), std::string("Bearer"),
                                    std::string("\nAuthorization: "), std::string("sig="), std::string("/api/"),
                                    std::string("oauth2"), kProxyPassword})
    EXPECT_FALSE(contains(seen, secret)) << secret;
  EXPECT_TRUE(contains(seen, "Proxy-Authorization: Basic ")) << "the proxy's own credentials went to it";
  for (const auto& out : {full.output, incremental.output}) {
    EXPECT_FALSE(contains(out, kProxyPassword));
    EXPECT_FALSE(contains(out, fake_secret));
  }
}

TEST_F(ProxySync, CheckNamesTheProxyAndTheHostsItCarries) {
  TempSchema schema("proxy");
  const auto api = start_api();
  ConnectProxy proxy(proxy_options(true));
  const auto config = write_config(dir_, *api, options(*api, schema.name(), authenticated(proxy)));
  ASSERT_EQ(run_mdesync(config, {"migrate"}).exit_code, 0);
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string port = api->base_url().substr(api->base_url().rfind(':') + 1);
  EXPECT_TRUE(contains(r.output, "ok    proxy: http://" + kProxyUser + "@127.0.0.1:" + std::to_string(proxy.port()) +
                                     " (http.proxy), password from http.proxy_password_file for " + kHost + ":" +
                                     port))
      << r.output;
  EXPECT_TRUE(contains(r.output, "ok    tenant contoso token")) << r.output;
  EXPECT_FALSE(contains(r.output, kProxyPassword));
}

TEST_F(ProxySync, TheEnvironmentsProxyIsUsedAndA407AsksForCredentialsNamingTheProxy) {
  TempSchema schema("proxy");
  const auto api = start_api();
  ConnectProxy proxy(proxy_options(true));
  const auto config = write_config(dir_, *api, options(*api, schema.name(), ""));
  const std::vector<std::string> env = {"HTTPS_PROXY=http://127.0.0.1:" + std::to_string(proxy.port()),
                                        "https_proxy=", "NO_PROXY=", "no_proxy="};
  const auto r = run_mdesync(config, {"check"}, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "(HTTPS_PROXY)")) << r.output;
  EXPECT_TRUE(contains(r.output, "proxy 127.0.0.1:" + std::to_string(proxy.port()) + " asks for credentials"))
      << r.output;
  EXPECT_TRUE(contains(r.output, "http.proxy_password_file")) << r.output;
  EXPECT_FALSE(contains(api->admin_get("/_admin/stats"), "/api/machines"));
}

TEST_F(ProxySync, ProxyNoneIgnoresTheEnvironment) {
  TempSchema schema("proxy");
  const auto api = start_api();
  ConnectProxy proxy(proxy_options(false));
  // Direct, the simulator by its address: the environment's proxy must not be asked.
  auto o = options(*api, schema.name(), "  proxy: none\n");
  o.api_url = api->base_url();
  o.token_url = api->base_url() + "/" + fake_tenant_id + "/oauth2/v2.0/token";
  const auto config = write_config(dir_, *api, o);
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe"},
                             {"HTTPS_PROXY=http://127.0.0.1:" + std::to_string(proxy.port()), "https_proxy="});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(*api, schema.name(), Dataset::noncpe);
  EXPECT_EQ(proxy.tunnels_opened(), 0u);
  EXPECT_TRUE(proxy.log().empty());
}

TEST_F(ProxySync, ARefusingProxyFailsTheSyncNamingTheHost) {
  TempSchema schema("proxy");
  const auto api = start_api();
  auto refusing = proxy_options(false);
  refusing.refuse_status = 403;
  ConnectProxy proxy(refusing);
  const auto config = write_config(
      dir_, *api, options(*api, schema.name(), "  proxy: http://127.0.0.1:" + std::to_string(proxy.port()) + "\n"));
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "refused a tunnel to " + kHost)) << r.output;
}

// Managed identity: the simulator's IMDS endpoint on loopback stands for 169.254.169.254.
class ManagedIdentitySync : public ::testing::Test {
 protected:
  std::filesystem::path config(const FakeApi& api, const std::string& schema, const std::string& more = {}) {
    ConfigOptions o{.schema = schema};
    o.secret = false;
    o.client_id = false;
    o.extra_tenant = "    auth: managed_identity\n    managed_identity_endpoint: " + api.base_url() +
                     "/metadata/identity/oauth2/token\n" + more;
    return write_config(dir_, api, o);
  }
  TempDir dir_;
};

TEST_F(ManagedIdentitySync, SyncsWithATokenFromTheMetadataEndpoint) {
  TempSchema schema("mi");
  FakeApi api({"--managed-identity"}, 15);
  const auto r = run_mdesync(config(api, schema.name()), {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_FALSE(contains(r.output, "access_token")) << r.output;
}

TEST_F(ManagedIdentitySync, CheckNamesTheEndpointAndShowsARefusalsReason) {
  TempSchema schema("mi");
  FakeApi api({"--user-assigned-identity", "99999999-aaaa-bbbb-cccc-dddddddddddd"}, 5);
  ASSERT_EQ(run_mdesync(config(api, schema.name()), {"migrate"}).exit_code, 0);
  const auto good = run_mdesync(
      config(api, schema.name(), "    managed_identity_client_id: 99999999-aaaa-bbbb-cccc-dddddddddddd\n"), {"check"});
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_TRUE(contains(good.output, "ok    tenant contoso token: obtained from " + api.base_url() +
                                        " (managed identity, instance metadata)"))
      << good.output;

  const auto unknown = run_mdesync(config(api, schema.name(), "    managed_identity_client_id: not-assigned\n"),
                                   {"check"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "managed identity token request failed (HTTP 400")) << unknown.output;
  EXPECT_TRUE(contains(unknown.output, "Identity not found")) << unknown.output;

  api.admin_post("/_admin/identity?deny=true");
  const auto denied = run_mdesync(
      config(api, schema.name(), "    managed_identity_client_id: 99999999-aaaa-bbbb-cccc-dddddddddddd\n"), {"check"});
  EXPECT_EQ(denied.exit_code, 1) << denied.output;
  EXPECT_TRUE(contains(denied.output, "(HTTP 403")) << denied.output;
  EXPECT_TRUE(contains(denied.output, "denied the request")) << denied.output;
}

// App Service and Container Apps: no endpoint in the config, the platform's
// IDENTITY_ENDPOINT and IDENTITY_HEADER in the environment, the simulator's
// GET /msi/token behind them (it answers with expires_on only, as they do).
class AppServiceIdentitySync : public ::testing::Test {
 protected:
  AppServiceIdentitySync() { header_file_ = dir_.write("identity-header", kHeader + "\n"); }
  std::filesystem::path config(const FakeApi& api, const std::string& schema) {
    ConfigOptions o{.schema = schema};
    o.secret = false;
    o.client_id = false;
    o.extra_tenant = "    auth: managed_identity\n";
    return write_config(dir_, api, o);
  }
  static std::vector<std::string> env(const FakeApi& api, const std::string& header) {
    return {"IDENTITY_ENDPOINT=" + api.base_url() + "/msi/token", "IDENTITY_HEADER=" + header};
  }
  // Without both variables the config falls back to 169.254.169.254: proven
  // here, in this process, before any mdesync runs with them.
  static void expect_loopback_endpoint(const std::filesystem::path& config, const FakeApi& api,
                                       const std::string& header) {
    ScopedEnv endpoint("IDENTITY_ENDPOINT", api.base_url() + "/msi/token");
    ScopedEnv value("IDENTITY_HEADER", header);
    const auto loaded = config::load_file(config);
    ASSERT_EQ(loaded.tenants.size(), 1u);
    ASSERT_EQ(loaded.tenants[0].secret.identity_endpoint, api.base_url() + "/msi/token");
    ASSERT_EQ(loaded.tenants[0].secret.identity_protocol, config::IdentityProtocol::app_service);
  }
  inline static const std::string kHeader = "zz-identity-header-zz";
  TempDir dir_;
  std::filesystem::path header_file_;
};

TEST_F(AppServiceIdentitySync, SyncsWithATokenFromIdentityEndpointAndCheckSaysSo) {
  TempSchema schema("mi");
  FakeApi api({"--managed-identity", "--identity-header-file", header_file_.string()}, 15);
  const auto cfg = config(api, schema.name());
  expect_loopback_endpoint(cfg, api, kHeader);
  const auto r = run_mdesync(cfg, {"sync", "--dataset", "noncpe"}, env(api, kHeader));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
  const auto check = run_mdesync(cfg, {"check"}, env(api, kHeader));
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_TRUE(contains(check.output, "ok    tenant contoso token: obtained from " + api.base_url() +
                                         " (managed identity, IDENTITY_ENDPOINT)"))
      << check.output;
  for (const auto& out : {r.output, check.output}) EXPECT_FALSE(contains(out, kHeader)) << out;
}

TEST_F(AppServiceIdentitySync, AWrongIdentityHeaderIsRefusedWith403AndTheReasonButNeverShown) {
  TempSchema schema("mi");
  FakeApi api({"--managed-identity", "--identity-header-file", header_file_.string()}, 5);
  const auto cfg = config(api, schema.name());
  const std::string wrong = "zz-stale-header-zz";
  expect_loopback_endpoint(cfg, api, wrong);
  ASSERT_EQ(run_mdesync(cfg, {"migrate"}).exit_code, 0);
  const auto r = run_mdesync(cfg, {"check"}, env(api, wrong));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "managed identity token request failed (HTTP 403): The X-IDENTITY-HEADER header is "
                                 "missing or does not match"))
      << r.output;
  EXPECT_FALSE(contains(r.output, wrong)) << r.output;
  EXPECT_FALSE(contains(r.output, kHeader)) << r.output;
}

// Workload identity: the simulator mints the service account token a kubelet
// would project, and checks it as the federated credential on the app would.
class WorkloadIdentitySync : public ::testing::Test {
 protected:
  std::filesystem::path config(const FakeApi& api, const std::string& schema) {
    ConfigOptions o{.schema = schema};
    o.secret = false;
    o.extra_tenant = "    auth: workload_identity\n";
    return write_config(dir_, api, o);
  }
  void project(FakeApi& api, const std::string& query = {}) {
    const auto tmp = dir_.write("token.tmp", api.admin_post("/_admin/federated-token" + query));
    std::filesystem::rename(tmp, token_file_);
  }
  std::vector<std::string> env() const { return {"AZURE_FEDERATED_TOKEN_FILE=" + token_file_.string()}; }
  TempDir dir_;
  std::filesystem::path token_file_ = dir_.path() / "azure-identity-token";
};

TEST_F(WorkloadIdentitySync, SyncsWithTheFederatedTokenAndPicksUpARotatedOne) {
  TempSchema schema("wi");
  FakeApi api({"--workload-identity"}, 15);
  const auto cfg = config(api, schema.name());
  project(api);
  const auto first = run_mdesync(cfg, {"sync", "--dataset", "cpe"}, env());
  ASSERT_EQ(first.exit_code, 0) << first.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);

  // The kubelet's token expired and nobody renewed it: refused with the reason.
  project(api, "?lifetime=-60&not_before=-3600");
  const auto expired = run_mdesync(cfg, {"check"}, env());
  EXPECT_EQ(expired.exit_code, 1) << expired.output;
  EXPECT_TRUE(contains(expired.output, "FAIL  tenant contoso token")) << expired.output;
  EXPECT_TRUE(contains(expired.output, "AADSTS700024")) << expired.output;

  // Rotated: the next run reads the new file.
  project(api);
  const auto rotated = run_mdesync(cfg, {"sync", "--dataset", "noncpe"}, env());
  ASSERT_EQ(rotated.exit_code, 0) << rotated.output;
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
}

TEST_F(WorkloadIdentitySync, AnUntrustedSubjectIsRefusedWithTheReasonAndNeverShown) {
  TempSchema schema("wi");
  FakeApi api({"--workload-identity"}, 5);
  project(api, "?subject=system:serviceaccount:other:other");
  const std::string token = read_file(token_file_);
  const auto r = run_mdesync(config(api, schema.name()), {"check"}, env());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "AADSTS700213")) << r.output;
  EXPECT_TRUE(contains(r.output, "federated credential")) << r.output;
  EXPECT_FALSE(contains(r.output, token.substr(token.rfind('.') + 1, 24))) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
