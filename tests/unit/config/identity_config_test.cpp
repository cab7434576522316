// auth: managed_identity and auth: workload_identity: which keys go with them,
// and where a managed identity asks for its tokens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.hpp"

namespace mdesync::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::problems_of;
using test::ScopedEnv;

// name and tenant_id only, lines 1-5; a tenant's remaining keys start on line 6.
const std::string head =
    "database:\n"
    "  url: postgresql://mdesync@localhost:5432/mde\n"
    "tenants:\n"
    "  - name: contoso\n"
    "    tenant_id: 11111111-2222-3333-4444-555555555555\n";

class IdentityConfig : public ::testing::Test {
 protected:
  ScopedEnv endpoint_{"IDENTITY_ENDPOINT", std::nullopt}, header_{"IDENTITY_HEADER", std::nullopt};
  static TenantOptions tenant(const std::string& lines) { return load_string(head + lines, "config.yaml").tenants[0]; }
};

TEST_F(IdentityConfig, ManagedIdentityNeedsNoSecretNorClientIdAndAsksImds) {
  const auto t = tenant("    auth: managed_identity\n");
  EXPECT_EQ(t.secret.kind, SecretKind::managed_identity);
  EXPECT_EQ(t.secret.identity_endpoint, "http://169.254.169.254/metadata/identity/oauth2/token");
  EXPECT_EQ(t.secret.identity_protocol, IdentityProtocol::imds);
  EXPECT_EQ(t.secret.managed_identity_client_id, "");
  EXPECT_EQ(t.client_id, "");
  EXPECT_EQ(t.scope, "https://api.securitycenter.microsoft.com/.default");
}

TEST_F(IdentityConfig, AUserAssignedIdentityAndAnEndpointForTests) {
  const auto t = tenant("    auth: managed_identity\n    managed_identity_client_id: 99999999-aaaa-bbbb-cccc-dddddddddddd\n"
                        "    managed_identity_endpoint: http://127.0.0.1:8080/metadata/identity/oauth2/token\n");
  EXPECT_EQ(t.secret.managed_identity_client_id, "99999999-aaaa-bbbb-cccc-dddddddddddd");
  EXPECT_EQ(t.secret.identity_endpoint, "http://127.0.0.1:8080/metadata/identity/oauth2/token");
  EXPECT_EQ(t.secret.identity_protocol, IdentityProtocol::imds);
}

TEST_F(IdentityConfig, AppServiceAnnouncesItsEndpointInTheEnvironment) {
  ScopedEnv endpoint("IDENTITY_ENDPOINT", "http://localhost:42356/msi/token");
  ScopedEnv header("IDENTITY_HEADER", "h");
  const auto t = tenant("    auth: managed_identity\n");
  EXPECT_EQ(t.secret.identity_endpoint, "http://localhost:42356/msi/token");
  EXPECT_EQ(t.secret.identity_protocol, IdentityProtocol::app_service);
  // A configured endpoint wins: it is what the config says.
  const auto configured =
      tenant("    auth: managed_identity\n    managed_identity_endpoint: http://169.254.169.254/metadata/x\n");
  EXPECT_EQ(configured.secret.identity_protocol, IdentityProtocol::imds);
}

TEST_F(IdentityConfig, AnIdentityEndpointOffTheMachineIsRefused) {
  EXPECT_THAT(problems_of(head + "    auth: managed_identity\n    managed_identity_endpoint: http://10.0.0.1/token\n"),
              ElementsAre(HasSubstr("tenants[0].managed_identity_endpoint: http:// is only allowed to a loopback host")));
  ScopedEnv endpoint("IDENTITY_ENDPOINT", "http://example.com/msi/token");
  ScopedEnv header("IDENTITY_HEADER", "h");
  EXPECT_THAT(problems_of(head + "    auth: managed_identity\n"),
              ElementsAre(HasSubstr("managed_identity: IDENTITY_ENDPOINT in the environment http:// is only allowed")));
}

TEST_F(IdentityConfig, ManagedIdentityRefusesSecretsAndClientId) {
  EXPECT_THAT(problems_of(head + "    auth: managed_identity\n    client_id: c\n    client_secret_env: S\n"),
              ElementsAre("config.yaml:7: tenants[0].client_id: does not apply with auth: managed_identity: the "
                          "token is the identity's own; name a user-assigned identity with managed_identity_client_id",
                          "config.yaml:8: tenants[0].client_secret_env: does not apply with auth: managed_identity "
                          "(no secret is needed)"));
}

TEST_F(IdentityConfig, WorkloadIdentityNeedsClientIdAndNoSecret) {
  const auto t = tenant("    auth: workload_identity\n    client_id: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n");
  EXPECT_EQ(t.secret.kind, SecretKind::workload_identity);
  EXPECT_EQ(t.token_url, "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/oauth2/v2.0/token");
  EXPECT_THAT(problems_of(head + "    auth: workload_identity\n"),
              ElementsAre("config.yaml:4: tenants[0].client_id: required"));
  EXPECT_THAT(problems_of(head + "    auth: workload_identity\n    client_id: c\n    certificate_file: /c.pem\n"),
              ElementsAre(HasSubstr("tenants[0].certificate_file: does not apply with auth: workload_identity")));
}

TEST_F(IdentityConfig, ManagedIdentityKeysBelongToManagedIdentityOnly) {
  EXPECT_THAT(problems_of(head + "    client_id: c\n    client_secret_env: S\n    managed_identity_client_id: x\n"),
              ElementsAre("config.yaml:8: tenants[0].managed_identity_client_id: applies only with auth: "
                          "managed_identity"));
}

TEST_F(IdentityConfig, AuthNamesTheSecretFlowsToo) {
  EXPECT_EQ(tenant("    auth: client_secret\n    client_id: c\n    client_secret_env: S\n").secret.kind, SecretKind::env);
  EXPECT_EQ(tenant("    auth: certificate\n    client_id: c\n    certificate_file: /c\n    private_key_file: /k\n")
                .secret.kind,
            SecretKind::certificate);
  EXPECT_THAT(problems_of(head + "    auth: certificate\n    client_id: c\n    client_secret_env: S\n"),
              ElementsAre("config.yaml:6: tenants[0].auth: certificate needs certificate_file with private_key_file"));
  EXPECT_THAT(problems_of(head + "    auth: password\n    client_id: c\n    client_secret_env: S\n"),
              ElementsAre("config.yaml:6: tenants[0].auth: must be one of client_secret, certificate, "
                          "managed_identity, workload_identity, got password"));
}

TEST_F(IdentityConfig, IdentityHeaderAndFederatedTokenAreReadFromTheEnvironmentWhenNeeded) {
  TenantOptions t;
  t.name = "contoso";
  EXPECT_THROW(read_identity_header(t), ConfigError);
  {
    ScopedEnv header("IDENTITY_HEADER", "hdr");
    EXPECT_EQ(read_identity_header(t), "hdr");
  }
  ScopedEnv file("AZURE_FEDERATED_TOKEN_FILE", std::nullopt);
  try {
    read_federated_token(t);
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("tenants[contoso]: environment variable AZURE_FEDERATED_TOKEN_FILE"));
  }
}

}  // namespace
}  // namespace mdesync::config
