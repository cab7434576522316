// Valid files: defaults, the full example, derived endpoints.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::config {
namespace {

using ::testing::ElementsAre;
using namespace std::chrono_literals;

TEST(ConfigValid, MinimalFileGetsEveryDefault) {
  const Config c = load_string(test::base, "config.yaml");
  EXPECT_EQ(c.source, "config.yaml");
  EXPECT_EQ(c.database.url, "postgresql://mdesync@localhost:5432/mde");
  EXPECT_EQ(c.database.schema, "mde");
  ASSERT_EQ(c.tenants.size(), 1u);
  const auto& t = c.tenants[0];
  EXPECT_EQ(t.name, "contoso");
  EXPECT_EQ(t.tenant_id, "11111111-2222-3333-4444-555555555555");
  EXPECT_EQ(t.client_id, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  EXPECT_EQ(t.cloud, Cloud::commercial);
  EXPECT_EQ(t.region, "");
  EXPECT_EQ(t.api_url, "https://api.securitycenter.microsoft.com");
  EXPECT_EQ(t.token_url, "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token");
  EXPECT_EQ(t.scope, "https://api.securitycenter.microsoft.com/.default");
  EXPECT_THAT(t.datasets, ElementsAre(model::Dataset::cpe, model::Dataset::noncpe));
  EXPECT_EQ(t.line, 4);
  EXPECT_EQ(c.sync.incremental_interval, 1h);
  EXPECT_EQ(c.sync.full_interval, 24h);
  EXPECT_EQ(c.sync.watermark_overlap, 1h);
  EXPECT_EQ(c.sync.page_size, 50000);
  EXPECT_EQ(c.sync.full_via, FullVia::export_files);
  EXPECT_DOUBLE_EQ(c.sync.max_removal_ratio, 0.3);
  EXPECT_EQ(c.sync.download_concurrency, 4);
  EXPECT_EQ(c.limits.json_per_minute, 30);
  EXPECT_EQ(c.limits.json_per_hour, 1000);
  EXPECT_EQ(c.limits.export_per_minute, 5);
  EXPECT_EQ(c.limits.export_per_hour, 20);
  EXPECT_EQ(c.http.ca_file, "");
  EXPECT_EQ(c.http.timeout, 300s);
  EXPECT_EQ(c.metrics.listen, "");
  EXPECT_EQ(c.log.level, LogLevel::info);
  EXPECT_EQ(c.log.format, LogFormat::text);
}

TEST(ConfigValid, EmptySectionsKeepTheirDefaults) {
  const Config c = load_string(test::base + "sync:\nlimits:\nhttp:\nmetrics:\nlog:\n", "config.yaml");
  EXPECT_EQ(c.sync.page_size, 50000);
  EXPECT_EQ(c.limits.json_per_hour, 1000);
  EXPECT_EQ(c.http.timeout, 300s);
  EXPECT_EQ(c.log.level, LogLevel::info);
}

TEST(ConfigValid, FullExampleFromFixture) {
  testing::TempDir creds;
  creds.write("extra-ca.pem", "-----BEGIN CERTIFICATE-----\n");
  test::ScopedEnv env("MDESYNC_TEST_CREDENTIALS", creds.path().string());
  const std::string dir = creds.path().string();
  const Config c = load_file(MDESYNC_FIXTURES_DIR "/config/full.yaml");

  EXPECT_EQ(c.source, MDESYNC_FIXTURES_DIR "/config/full.yaml");
  EXPECT_EQ(c.database.url, "postgresql://mdesync@db.example.net:5432/inventory");
  EXPECT_EQ(c.database.schema, "mde_prod");
  ASSERT_EQ(c.tenants.size(), 3u);

  const auto& contoso = c.tenants[0];
  EXPECT_EQ(contoso.name, "contoso");
  EXPECT_EQ(contoso.line, 6);
  EXPECT_EQ(contoso.secret.kind, SecretKind::file);
  EXPECT_EQ(contoso.secret.path, dir + "/contoso");
  EXPECT_EQ(contoso.region, "eu");
  EXPECT_EQ(contoso.api_url, "https://api-eu.securitycenter.microsoft.com");
  EXPECT_EQ(contoso.token_url,
            "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token");
  EXPECT_EQ(contoso.scope, "https://api.securitycenter.microsoft.com/.default");
  EXPECT_THAT(contoso.datasets, ElementsAre(model::Dataset::noncpe));

  const auto& fabrikam = c.tenants[1];
  EXPECT_EQ(fabrikam.name, "fabrikam-gov");
  EXPECT_EQ(fabrikam.tenant_id, "fabrikam.onmicrosoft.us");
  EXPECT_EQ(fabrikam.client_id, "99999999-8888-7777-6666-555555555555");
  EXPECT_EQ(fabrikam.secret.kind, SecretKind::certificate);
  EXPECT_EQ(fabrikam.secret.certificate_file, dir + "/fabrikam.crt");
  EXPECT_EQ(fabrikam.secret.private_key_file, dir + "/fabrikam.key");
  EXPECT_EQ(fabrikam.assertion_algorithm, "PS256");
  EXPECT_EQ(fabrikam.cloud, Cloud::gcc_high);
  EXPECT_EQ(fabrikam.api_url, "https://api-gov.securitycenter.microsoft.us");
  EXPECT_EQ(fabrikam.token_url, "https://login.microsoftonline.us/fabrikam.onmicrosoft.us/oauth2/v2.0/token");
  EXPECT_EQ(fabrikam.scope, "https://api-gov.securitycenter.microsoft.us/.default");
  EXPECT_THAT(fabrikam.datasets, ElementsAre(model::Dataset::cpe, model::Dataset::noncpe));

  const auto& sim = c.tenants[2];
  EXPECT_EQ(sim.name, "local_sim");
  EXPECT_EQ(sim.secret.kind, SecretKind::env);
  EXPECT_EQ(sim.secret.env, "MDESYNC_SIM_SECRET");
  EXPECT_EQ(sim.api_url, "http://127.0.0.1:8080");
  EXPECT_EQ(sim.token_url, "http://localhost:8080/token");
  EXPECT_EQ(sim.scope, "http://127.0.0.1:8080/.default");
  EXPECT_THAT(sim.datasets, ElementsAre(model::Dataset::cpe, model::Dataset::noncpe));

  EXPECT_EQ(c.sync.incremental_interval, 15min);
  EXPECT_EQ(c.sync.full_interval, 48h);
  EXPECT_EQ(c.sync.watermark_overlap, 0s);
  EXPECT_EQ(c.sync.page_size, 10000);
  EXPECT_EQ(c.sync.full_via, FullVia::json);
  EXPECT_DOUBLE_EQ(c.sync.max_removal_ratio, 0.5);
  EXPECT_EQ(c.sync.download_concurrency, 8);
  EXPECT_EQ(c.limits.json_per_minute, 20);
  EXPECT_EQ(c.limits.json_per_hour, 500);
  EXPECT_EQ(c.limits.export_per_minute, 3);
  EXPECT_EQ(c.limits.export_per_hour, 10);
  EXPECT_EQ(c.http.ca_file, dir + "/extra-ca.pem");
  EXPECT_EQ(c.http.timeout, 90s);
  EXPECT_EQ(c.metrics.listen, "[::1]:9464");
  EXPECT_EQ(c.log.level, LogLevel::debug);
  EXPECT_EQ(c.log.format, LogFormat::json);

  ASSERT_NE(c.find_tenant("fabrikam-gov"), nullptr);
  EXPECT_EQ(c.find_tenant("fabrikam-gov")->client_id, "99999999-8888-7777-6666-555555555555");
  EXPECT_EQ(c.find_tenant("nobody"), nullptr);
}

// ---- Derived endpoints -----------------------------------------------------

struct Endpoints {
  std::string cloud, region;
  std::string api, token, scope;
};

class DerivedEndpoints : public ::testing::TestWithParam<Endpoints> {};

TEST_P(DerivedEndpoints, FollowCloudAndRegion) {
  const auto& e = GetParam();
  std::string lines = "    client_secret_env: S\n    cloud: " + e.cloud + "\n";
  if (!e.region.empty()) lines += "    region: " + e.region + "\n";
  const Config c = load_string(test::tenant_doc(lines), "config.yaml");
  const auto& t = c.tenants.at(0);
  const std::string id = "11111111-2222-3333-4444-555555555555";
  EXPECT_EQ(t.api_url, e.api);
  EXPECT_EQ(t.token_url, e.token + "/" + id + "/oauth2/v2.0/token");
  EXPECT_EQ(t.scope, e.scope);
  EXPECT_EQ(to_string(t.cloud), e.cloud);
}

const std::string com_login = "https://login.microsoftonline.com";
const std::string gov_login = "https://login.microsoftonline.us";
const std::string com_scope = "https://api.securitycenter.microsoft.com/.default";

INSTANTIATE_TEST_SUITE_P(
    EveryCloudAndRegion, DerivedEndpoints,
    ::testing::Values(
        Endpoints{"commercial", "", "https://api.securitycenter.microsoft.com", com_login, com_scope},
        Endpoints{"commercial", "us", "https://api-us.securitycenter.microsoft.com", com_login, com_scope},
        Endpoints{"commercial", "eu", "https://api-eu.securitycenter.microsoft.com", com_login, com_scope},
        Endpoints{"commercial", "uk", "https://api-uk.securitycenter.microsoft.com", com_login, com_scope},
        Endpoints{"commercial", "au", "https://api-au.securitycenter.microsoft.com", com_login, com_scope},
        Endpoints{"gcc", "", "https://api-gcc.securitycenter.microsoft.us", com_login,
                  "https://api-gcc.securitycenter.microsoft.us/.default"},
        Endpoints{"gcc-high", "", "https://api-gov.securitycenter.microsoft.us", gov_login,
                  "https://api-gov.securitycenter.microsoft.us/.default"},
        Endpoints{"dod", "", "https://api-gov.securitycenter.microsoft.us", gov_login,
                  "https://api-gov.securitycenter.microsoft.us/.default"}));

TEST(ConfigValid, DefaultEndpointFunctions) {
  EXPECT_EQ(default_api_url(Cloud::commercial, ""), "https://api.securitycenter.microsoft.com");
  EXPECT_EQ(default_api_url(Cloud::commercial, "uk"), "https://api-uk.securitycenter.microsoft.com");
  EXPECT_EQ(default_api_url(Cloud::gcc, ""), "https://api-gcc.securitycenter.microsoft.us");
  EXPECT_EQ(default_api_url(Cloud::dod, ""), "https://api-gov.securitycenter.microsoft.us");
  EXPECT_EQ(default_token_url(Cloud::gcc, "t"), "https://login.microsoftonline.com/t/oauth2/v2.0/token");
  EXPECT_EQ(default_token_url(Cloud::gcc_high, "t"), "https://login.microsoftonline.us/t/oauth2/v2.0/token");
  EXPECT_EQ(default_scope(Cloud::commercial), "https://api.securitycenter.microsoft.com/.default");
  EXPECT_EQ(default_scope(Cloud::gcc_high), "https://api-gov.securitycenter.microsoft.us/.default");
}

TEST(ConfigValid, CloudNames) {
  EXPECT_STREQ(to_string(Cloud::commercial), "commercial");
  EXPECT_STREQ(to_string(Cloud::gcc), "gcc");
  EXPECT_STREQ(to_string(Cloud::gcc_high), "gcc-high");
  EXPECT_STREQ(to_string(Cloud::dod), "dod");
}

TEST(ConfigValid, ExplicitEndpointsOverrideCloudAndRegion) {
  const Config c = load_string(test::tenant_doc("    client_secret_env: S\n    region: eu\n"
                                                "    api_url: https://mde.proxy.example/\n"
                                                "    token_url: https://sts.example/token\n"
                                                "    scope: https://mde.proxy.example/.default\n"),
                               "config.yaml");
  EXPECT_EQ(c.tenants[0].api_url, "https://mde.proxy.example");
  EXPECT_EQ(c.tenants[0].token_url, "https://sts.example/token");
  EXPECT_EQ(c.tenants[0].scope, "https://mde.proxy.example/.default");
}

TEST(ConfigValid, ParseHostPort) {
  const auto v4 = parse_host_port("127.0.0.1:9464");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9464);
  const auto v6 = parse_host_port("[::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  EXPECT_FALSE(parse_host_port("127.0.0.1"));
  EXPECT_FALSE(parse_host_port("[::1]"));
  EXPECT_FALSE(parse_host_port("a:b"));
}

}  // namespace
}  // namespace mdesync::config
