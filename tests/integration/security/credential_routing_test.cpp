// Each credential goes only to the host it belongs to: the bearer token only to
// api_url's host, the client secret or assertion only to token_url's host, SAS
// URLs only to their storage host, and nothing to a host a nextLink names.
#include <gtest/gtest.h>

#include <algorithm>

#include "integration/security/split_hosts.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

bool any_of(const std::vector<std::string>& values, const std::string& text) {
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) { return contains(text, v); });
}

// The three relays saw exactly their own host, and each credential only where it belongs.
void expect_each_credential_only_at_its_host(const SplitHosts& hosts, bool certificate) {
  const Credentials c = credentials_seen(hosts);
  ASSERT_FALSE(c.access_tokens.empty()) << "no token was issued";
  ASSERT_EQ(c.assertions.empty(), !certificate);

  const auto tokens = hosts.token.exchanges();
  ASSERT_FALSE(tokens.empty());
  for (const auto& e : tokens) {
    EXPECT_EQ(e.host, hosts.token_host());
    EXPECT_EQ(e.authorization, "") << "a token request carried an Authorization header";
    EXPECT_TRUE(e.target.ends_with("/oauth2/v2.0/token")) << e.target;
    EXPECT_EQ(contains(e.request_body, "client_secret="), !certificate) << e.request_body.substr(0, 200);
    EXPECT_EQ(contains(e.request_body, "client_assertion="), certificate);
    EXPECT_FALSE(any_of(c.access_tokens, e.request_body + e.target)) << "a bearer token went to the token host";
    EXPECT_FALSE(any_of(c.sas_signatures, e.request_body + e.target)) << "a SAS URL went to the token host";
  }

  const auto api = hosts.api.exchanges();
  ASSERT_FALSE(api.empty());
  for (const auto& e : api) {
    EXPECT_EQ(e.host, hosts.api_host());
    ASSERT_TRUE(e.authorization.starts_with("Bearer ")) << e.target;
    EXPECT_NE(std::find(c.access_tokens.begin(), c.access_tokens.end(), e.authorization.substr(7)),
              c.access_tokens.end())
        << "the API got a bearer token the token endpoint never issued";
    const std::string sent = e.target + e.request_body + e.authorization;
    EXPECT_FALSE(any_of(c.client_secret, sent)) << "the client secret went to the API host";
    EXPECT_FALSE(any_of(c.assertions, sent)) << "a client assertion went to the API host";
    EXPECT_FALSE(contains(e.target, "sig=")) << "a SAS URL went to the API host: " << e.target.substr(0, 60);
  }

  for (const auto& e : hosts.storage.exchanges()) {
    EXPECT_EQ(e.host, hosts.storage_host());
    EXPECT_EQ(e.authorization, "") << "storage got an Authorization header";
    EXPECT_TRUE(e.target.starts_with("/_blob/")) << e.target.substr(0, 60);
    const std::string sent = e.target + e.request_body;
    EXPECT_TRUE(any_of(c.sas_signatures, sent)) << "storage was asked without a SAS the API issued";
    EXPECT_FALSE(any_of(c.access_tokens, sent)) << "a bearer token went to storage";
    EXPECT_FALSE(any_of(c.client_secret, sent)) << "the client secret went to storage";
    EXPECT_FALSE(any_of(c.assertions, sent)) << "a client assertion went to storage";
  }
}

int count_sync_runs(const std::string& schema, const std::string& status) {
  return std::stoi(query_value("SELECT count(*) FROM \"" + schema + "\".sync_runs WHERE status = '" + status + "'"));
}

TEST(CredentialRouting, SecretFlowSendsEachCredentialOnlyToItsOwnHost) {
  TempSchema schema("route");
  TempDir dir;
  SplitHosts hosts;
  const auto json = write_security_config(dir, hosts, {.schema = schema.name(), .full_via = "json"});
  auto r = run_mdesync(json, {"sync", "--mode", "full", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  TempDir dir2;
  const auto exported = write_security_config(dir2, hosts, {.schema = schema.name(), .full_via = "export"});
  r = run_mdesync(exported, {"sync", "--mode", "full", "--dataset", "noncpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(hosts.sim(), schema.name(), Dataset::cpe);
  expect_table_equals_truth(hosts.sim(), schema.name(), Dataset::noncpe);
  // Removals reach the tables with the next full sync only, so the tables are compared before.
  hosts.sim().admin_post("/_admin/mutate?installs=5&uninstalls=2&upgrades=3&seed=3");
  r = run_mdesync(json, {"sync", "--mode", "incremental"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  EXPECT_GE(hosts.storage.exchanges().size(), 3u) << "the export files were not fetched from the storage host";
  EXPECT_GE(hosts.api.exchanges().size(), 4u);
  expect_each_credential_only_at_its_host(hosts, false);
  EXPECT_EQ(count_sync_runs(schema.name(), "succeeded"), 4);
}

TEST(CredentialRouting, CertificateFlowSendsTheAssertionOnlyToTheTokenHost) {
  TempSchema schema("route");
  TempDir dir;
  const auto cert = make_self_signed("mdesync-security-client");
  const auto cert_file = dir.write("client.pem", cert.certificate_pem);
  const auto key_file = dir.write("client.key", cert.private_key_pem);
  SplitHosts hosts({"--client-cert", cert_file.string()});
  const auto config = write_security_config(
      dir, hosts,
      {.schema = schema.name(),
       .full_via = "export",
       .certificate_lines = "    certificate_file: " + cert_file.string() + "\n    private_key_file: " + key_file.string() + "\n"});
  const auto r = run_mdesync(config, {"sync", "--mode", "full"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(hosts.sim(), schema.name(), Dataset::cpe);
  expect_each_credential_only_at_its_host(hosts, true);
}

TEST(CredentialRouting, ANextLinkToAForeignHostIsNeverFollowed) {
  TempSchema schema("route");
  TempDir dir;
  RecordingRelay foreign("127.0.0.2");
  SplitHosts hosts({}, 20, foreign.url());
  foreign.set_upstream_port(std::stoi(hosts.sim().base_url().substr(hosts.sim().base_url().rfind(':') + 1)));
  const auto config = write_security_config(dir, hosts, {.schema = schema.name()});
  const auto r = run_mdesync(config, {"sync", "--mode", "full", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "refusing to follow a link to " + foreign.url())) << r.output;
  EXPECT_TRUE(foreign.exchanges().empty()) << "the foreign host was contacted: " << foreign.exchanges()[0].target;
  EXPECT_GE(hosts.api.exchanges().size(), 1u);
  // The first page was fetched, but a snapshot that could not finish is not applied.
  EXPECT_EQ(query_value("SELECT count(*) FROM \"" + schema.name() + "\".software_inventory"), "0");
  EXPECT_EQ(count_sync_runs(schema.name(), "failed"), 1);
}

TEST(CredentialRouting, ARedirectIsNeverFollowedWithTheTokenOrTheSasUrl) {
  TempSchema schema("route");
  TempDir dir, export_dir;
  RecordingRelay foreign("127.0.0.2");
  SplitHosts hosts;
  foreign.set_upstream_port(std::stoi(hosts.sim().base_url().substr(hosts.sim().base_url().rfind(':') + 1)));
  const auto json = write_security_config(dir, hosts, {.schema = schema.name()});
  const auto exported = write_security_config(export_dir, hosts, {.schema = schema.name(), .full_via = "export"});
  hosts.api.set_redirect(foreign.url());
  auto r = run_mdesync(json, {"sync", "--mode", "full", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "HTTP 307")) << r.output;
  hosts.api.set_redirect("");
  hosts.storage.set_redirect(foreign.url());
  r = run_mdesync(exported, {"sync", "--mode", "full", "--dataset", "noncpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_GE(hosts.storage.exchanges().size(), 1u);
  EXPECT_TRUE(foreign.exchanges().empty()) << "a redirect was followed to " << foreign.exchanges()[0].target.substr(0, 40);
  EXPECT_EQ(count_sync_runs(schema.name(), "failed"), 2);
  EXPECT_EQ(count_sync_runs(schema.name(), "succeeded"), 0);
}

}  // namespace
}  // namespace mdesync::testing
