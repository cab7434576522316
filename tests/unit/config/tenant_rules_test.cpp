// The tenant entries: secrets, names, clouds and regions, URLs, datasets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace mdesync::config {
namespace {

using test::problems_of;
using test::tenant_doc;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string env_secret = "    client_secret_env: MDESYNC_TEST_SECRET\n";  // line 7 of tenant_doc

TenantOptions load_tenant(const std::string& lines_from_7) {
  const Config c = load_string(tenant_doc(lines_from_7), "config.yaml");
  EXPECT_EQ(c.tenants.size(), 1u);
  return c.tenants.at(0);
}

// ---- Secrets ---------------------------------------------------------------

TEST(TenantSecrets, InlineSecretIsRefusedWithoutEchoingIt) {
  const auto problems = problems_of(tenant_doc("    client_secret: hunter2\n"));
  EXPECT_THAT(problems, ElementsAre("config.yaml:7: tenants[0].client_secret: inline secrets are not accepted; use "
                                    "client_secret_file or client_secret_env"));
  for (const auto& p : problems) EXPECT_THAT(p, Not(HasSubstr("hunter2")));
}

TEST(TenantSecrets, InlineSecretNextToAValidSourceIsStillRefused) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    client_secret: hunter2\n")),
              ElementsAre("config.yaml:8: tenants[0].client_secret: inline secrets are not accepted; use "
                          "client_secret_file or client_secret_env"));
}

TEST(TenantSecrets, TwoSourcesAreRefused) {
  EXPECT_THAT(problems_of(tenant_doc("    client_secret_file: /run/secret\n" + env_secret)),
              ElementsAre("config.yaml:4: tenants[0]: give exactly one secret source (client_secret_file, "
                          "client_secret_env, or certificate_file with private_key_file), got client_secret_file, "
                          "client_secret_env"));
}

TEST(TenantSecrets, FileAndCertificateAreRefused) {
  EXPECT_THAT(problems_of(tenant_doc("    client_secret_file: /run/secret\n    certificate_file: /run/c.pem\n"
                                     "    private_key_file: /run/k.pem\n")),
              ElementsAre("config.yaml:4: tenants[0]: give exactly one secret source (client_secret_file, "
                          "client_secret_env, or certificate_file with private_key_file), got client_secret_file, "
                          "certificate_file, private_key_file"));
}

TEST(TenantSecrets, NoSourceIsRefused) {
  EXPECT_THAT(problems_of(tenant_doc("")),
              ElementsAre("config.yaml:4: tenants[0]: needs a secret source: client_secret_file, client_secret_env, "
                          "or certificate_file with private_key_file (auth: managed_identity and auth: "
                          "workload_identity need none)"));
}

TEST(TenantSecrets, CertificateWithoutKey) {
  EXPECT_THAT(problems_of(tenant_doc("    certificate_file: /run/c.pem\n")),
              ElementsAre("config.yaml:7: tenants[0].certificate_file: requires private_key_file"));
}

TEST(TenantSecrets, KeyWithoutCertificate) {
  EXPECT_THAT(problems_of(tenant_doc("    private_key_file: /run/k.pem\n")),
              ElementsAre("config.yaml:7: tenants[0].private_key_file: requires certificate_file"));
}

TEST(TenantSecrets, EachSourceSetsItsKind) {
  const auto file = load_tenant("    client_secret_file: /run/secret\n");
  EXPECT_EQ(file.secret.kind, SecretKind::file);
  EXPECT_EQ(file.secret.path, "/run/secret");

  const auto env = load_tenant(env_secret);
  EXPECT_EQ(env.secret.kind, SecretKind::env);
  EXPECT_EQ(env.secret.env, "MDESYNC_TEST_SECRET");

  const auto cert = load_tenant("    certificate_file: /run/c.pem\n    private_key_file: /run/k.pem\n");
  EXPECT_EQ(cert.secret.kind, SecretKind::certificate);
  EXPECT_EQ(cert.secret.certificate_file, "/run/c.pem");
  EXPECT_EQ(cert.secret.private_key_file, "/run/k.pem");
  EXPECT_EQ(cert.assertion_algorithm, "RS256");
}

TEST(TenantSecrets, AssertionAlgorithm) {
  const std::string cert = "    certificate_file: /run/c.pem\n    private_key_file: /run/k.pem\n";
  EXPECT_EQ(load_tenant(cert + "    assertion_algorithm: PS256\n").assertion_algorithm, "PS256");
  EXPECT_THAT(problems_of(tenant_doc(cert + "    assertion_algorithm: HS256\n")),
              ElementsAre("config.yaml:9: tenants[0].assertion_algorithm: must be one of RS256, PS256, got HS256"));
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    assertion_algorithm: PS256\n")),
              ElementsAre("config.yaml:8: tenants[0].assertion_algorithm: applies only to the certificate flow "
                          "(certificate_file with private_key_file)"));
}

TEST(TenantSecrets, EnvironmentVariableNameIsChecked) {
  EXPECT_THAT(problems_of(tenant_doc("    client_secret_env: MY-SECRET\n")),
              ElementsAre("config.yaml:7: tenants[0].client_secret_env: must be an environment variable name, got "
                          "MY-SECRET"));
}

TEST(TenantSecrets, CredentialsDirectoryIsExpanded) {
  test::ScopedEnv env("CREDENTIALS_DIRECTORY", "/run/credentials/mdesync.service");
  EXPECT_EQ(load_tenant("    client_secret_file: ${CREDENTIALS_DIRECTORY}/contoso\n").secret.path,
            "/run/credentials/mdesync.service/contoso");
  const auto cert = load_tenant(
      "    certificate_file: ${CREDENTIALS_DIRECTORY}/c.pem\n"
      "    private_key_file: ${CREDENTIALS_DIRECTORY}/k.pem\n");
  EXPECT_EQ(cert.secret.certificate_file, "/run/credentials/mdesync.service/c.pem");
  EXPECT_EQ(cert.secret.private_key_file, "/run/credentials/mdesync.service/k.pem");
}

TEST(TenantSecrets, SeveralVariablesAndALoneDollarInOnePath) {
  test::ScopedEnv a("MDESYNC_TEST_A", "/a");
  test::ScopedEnv b("MDESYNC_TEST_B", "b");
  EXPECT_EQ(load_tenant("    client_secret_file: ${MDESYNC_TEST_A}/$x/${MDESYNC_TEST_B}.key\n").secret.path,
            "/a/$x/b.key");
}

TEST(TenantSecrets, UnsetVariableIsNamed) {
  test::ScopedEnv env("CREDENTIALS_DIRECTORY", std::nullopt);
  EXPECT_THAT(problems_of(tenant_doc("    client_secret_file: ${CREDENTIALS_DIRECTORY}/contoso\n")),
              ElementsAre("config.yaml:7: tenants[0].client_secret_file: environment variable CREDENTIALS_DIRECTORY "
                          "is not set"));
}

TEST(TenantSecrets, EmptyVariableIsRefused) {
  test::ScopedEnv env("CREDENTIALS_DIRECTORY", "");
  EXPECT_THAT(problems_of(tenant_doc("    certificate_file: ${CREDENTIALS_DIRECTORY}/c.pem\n"
                                     "    private_key_file: /k.pem\n")),
              ElementsAre("config.yaml:7: tenants[0].certificate_file: environment variable CREDENTIALS_DIRECTORY "
                          "is empty"));
}

TEST(TenantSecrets, UnterminatedVariable) {
  EXPECT_THAT(problems_of(tenant_doc("    private_key_file: ${CREDENTIALS_DIRECTORY/k.pem\n"
                                     "    certificate_file: /c.pem\n")),
              ElementsAre("config.yaml:7: tenants[0].private_key_file: unterminated ${ in "
                          "${CREDENTIALS_DIRECTORY/k.pem"));
}

// ---- Names and ids ---------------------------------------------------------

TEST(TenantNames, BadNamesAreRefused) {
  for (const std::string& bad : std::vector<std::string>{"Contoso", "con toso", "a.b", "\"\"", std::string(64, 'a')}) {
    const std::string doc = "database:\n  url: x\ntenants:\n  - name: \"" + (bad == "\"\"" ? "" : bad) +
                            "\"\n    tenant_id: t\n    client_id: c\n" + env_secret;
    EXPECT_THAT(problems_of(doc),
                ElementsAre("config.yaml:4: tenants[0].name: must match [a-z0-9_-]{1,63}, got " + bad))
        << bad;
  }
}

TEST(TenantNames, GoodNamesAreAccepted) {
  for (const std::string& good : std::vector<std::string>{"a", "contoso-eu_2", "0", std::string(63, 'z')}) {
    const std::string doc =
        "database:\n  url: x\ntenants:\n  - name: " + good + "\n    tenant_id: t\n    client_id: c\n" + env_secret;
    EXPECT_THAT(problems_of(doc), ElementsAre()) << good;
  }
}

TEST(TenantNames, DuplicateNamesAreRefused) {
  const std::string tenant = "  - name: contoso\n    tenant_id: t\n    client_id: c\n" + env_secret;
  EXPECT_THAT(problems_of("database:\n  url: x\ntenants:\n" + tenant + tenant),
              ElementsAre("config.yaml:8: tenants[1].name: duplicate tenant name contoso (also tenants[0])"));
}

TEST(TenantNames, RequiredKeysAreReportedAtTheTenant) {
  EXPECT_THAT(
      problems_of("database:\n  url: x\ntenants:\n  - name: contoso\n" + env_secret),
      ElementsAre("config.yaml:4: tenants[0].tenant_id: required", "config.yaml:4: tenants[0].client_id: required"));
}

TEST(TenantNames, TenantThatIsNotAMap) {
  EXPECT_THAT(problems_of("database:\n  url: x\ntenants:\n  - contoso\n"),
              ElementsAre("config.yaml:4: tenants[0]: expected a map, got contoso"));
}

TEST(TenantNames, TenantIdWithSlashOrSpaceIsRefused) {
  for (const std::string bad : {"evil/../x", "a b", "\"\""}) {
    const std::string doc =
        "database:\n  url: x\ntenants:\n  - name: c\n    tenant_id: " + bad + "\n    client_id: c\n" + env_secret;
    EXPECT_THAT(problems_of(doc), ElementsAre("config.yaml:5: tenants[0].tenant_id: must be a GUID or domain name "
                                              "without '/' or whitespace, got " +
                                              bad))
        << bad;
  }
}

TEST(TenantNames, ClientIdWithSpaceIsRefused) {
  const std::string doc =
      "database:\n  url: x\ntenants:\n  - name: c\n    tenant_id: t\n    client_id: \"a b\"\n" + env_secret;
  EXPECT_THAT(problems_of(doc),
              ElementsAre("config.yaml:6: tenants[0].client_id: must not be empty or contain whitespace, got a b"));
}

TEST(TenantNames, UnknownTenantKeySuggestsTheCloseOne) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    regoin: eu\n")),
              ElementsAre("config.yaml:8: tenants[0].regoin: unknown key (did you mean region?)"));
}

TEST(TenantNames, SecondTenantProblemsUseItsIndex) {
  const std::string doc =
      test::base + "  - name: fabrikam\n    tenant_id: t\n    client_id: c\n" + env_secret + "    cloud: azure\n";
  EXPECT_THAT(
      problems_of(doc),
      ElementsAre("config.yaml:12: tenants[1].cloud: must be one of commercial, gcc, gcc-high, dod, got azure"));
}

// ---- Cloud and region ------------------------------------------------------

TEST(TenantCloud, RegionOnlyInTheCommercialCloud) {
  for (const std::string cloud : {"gcc", "gcc-high", "dod"}) {
    EXPECT_THAT(problems_of(tenant_doc(env_secret + "    cloud: " + cloud + "\n    region: eu\n")),
                ElementsAre("config.yaml:9: tenants[0].region: regional API hosts exist only in the commercial cloud, "
                            "got cloud " +
                            cloud))
        << cloud;
  }
}

TEST(TenantCloud, RegionBeforeCloudIsStillChecked) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    region: us\n    cloud: dod\n")),
              ElementsAre("config.yaml:8: tenants[0].region: regional API hosts exist only in the commercial cloud, "
                          "got cloud dod"));
}

TEST(TenantCloud, UnknownRegionListsTheKnownOnes) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    region: xx\n")),
              ElementsAre("config.yaml:8: tenants[0].region: must be one of us, eu, uk, au, got xx"));
}

TEST(TenantCloud, UnknownCloud) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    cloud: azure\n")),
              ElementsAre("config.yaml:8: tenants[0].cloud: must be one of commercial, gcc, gcc-high, dod, got azure"));
}

// ---- URLs ------------------------------------------------------------------

TEST(TenantUrls, PlainHttpToARemoteHostIsRefused) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    api_url: http://example.com\n"
                                                  "    token_url: http://login.example.com/token\n")),
              ElementsAre("config.yaml:8: tenants[0].api_url: http:// is only allowed to a loopback host "
                          "(127.0.0.0/8, ::1, localhost), got http://example.com",
                          "config.yaml:9: tenants[0].token_url: http:// is only allowed to a loopback host "
                          "(127.0.0.0/8, ::1, localhost), got http://login.example.com/token"));
}

TEST(TenantUrls, OtherSchemesAreRefused) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    api_url: ftp://example.com\n")),
              ElementsAre("config.yaml:8: tenants[0].api_url: must start with https:// (or http:// to a loopback "
                          "host), got ftp://example.com"));
}

TEST(TenantUrls, HttpsAndLoopbackHttpAreAccepted) {
  for (const std::string url :
       {"https://api.example.com", "http://127.0.0.5:8080", "http://[::1]:8080/api", "http://localhost:9000"}) {
    const auto t = load_tenant(env_secret + "    api_url: " + url + "\n    token_url: " + url + "/token\n");
    EXPECT_EQ(t.api_url, url);
    EXPECT_EQ(t.token_url, url + "/token");
  }
}

TEST(TenantUrls, ApiUrlIsStoredWithoutTrailingSlash) {
  EXPECT_EQ(load_tenant(env_secret + "    api_url: https://api.example.com//\n").api_url, "https://api.example.com");
}

TEST(TenantUrls, ScopeMustBeAUrl) {
  EXPECT_THAT(
      problems_of(tenant_doc(env_secret + "    scope: api://mde/.default\n")),
      ElementsAre("config.yaml:8: tenants[0].scope: must start with https:// or http://, got api://mde/.default"));
  EXPECT_EQ(load_tenant(env_secret + "    scope: http://127.0.0.1/.default\n").scope, "http://127.0.0.1/.default");
}

// ---- Datasets --------------------------------------------------------------

TEST(TenantDatasets, DefaultIsBoth) {
  EXPECT_THAT(load_tenant(env_secret).datasets, ElementsAre(model::Dataset::cpe, model::Dataset::noncpe));
}

TEST(TenantDatasets, OneDataset) {
  EXPECT_THAT(load_tenant(env_secret + "    datasets: [noncpe]\n").datasets, ElementsAre(model::Dataset::noncpe));
}

TEST(TenantDatasets, EmptyListIsRefused) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    datasets: []\n")),
              ElementsAre("config.yaml:8: tenants[0].datasets: must list at least one of cpe, noncpe"));
}

TEST(TenantDatasets, DuplicateAndUnknownAreEachReported) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    datasets:\n      - software\n      - cpe\n      - cpe\n")),
              ElementsAre("config.yaml:9: tenants[0].datasets[0]: must be one of cpe, noncpe, got software",
                          "config.yaml:11: tenants[0].datasets[2]: cpe is listed twice"));
}

TEST(TenantDatasets, ScalarInsteadOfAList) {
  EXPECT_THAT(problems_of(tenant_doc(env_secret + "    datasets: cpe\n")),
              ElementsAre("config.yaml:8: tenants[0].datasets: expected a sequence of cpe, noncpe, got cpe"));
}

}  // namespace
}  // namespace mdesync::config
