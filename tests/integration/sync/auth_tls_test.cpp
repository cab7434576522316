// Credentials, TLS and `mdesync check` against the simulator: certificate
// assertions (RS256, PS256), HTTPS with a private CA, and the fixes `check`
// prints for each kind of failure.
#include <gtest/gtest.h>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;

class CertificateAuth : public ::testing::TestWithParam<const char*> {};

TEST_P(CertificateAuth, SyncsWithAClientAssertion) {
  TempSchema schema("cert");
  TempDir dir;
  const auto cert = make_self_signed("mdesync-test-client");
  const auto cert_file = dir.write("client.pem", cert.certificate_pem);
  const auto key_file = dir.write("client.key", cert.private_key_pem);
  FakeApi api({"--client-cert", cert_file.string()}, 15);
  ConfigOptions options{.schema = schema.name()};
  options.secret = false;
  options.extra_tenant = "    certificate_file: " + cert_file.string() + "\n    private_key_file: " + key_file.string() +
                         "\n    assertion_algorithm: " + GetParam() + "\n";
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::cpe);
  EXPECT_EQ(r.output.find(cert.private_key_pem.substr(40, 40)), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, CertificateAuth, ::testing::Values("RS256", "PS256"));

TEST(CertificateAuth, AnUnregisteredCertificateIsRefusedWithItsFix) {
  TempSchema schema("cert");
  TempDir dir;
  const auto registered = make_self_signed("registered");
  const auto other = make_self_signed("other");
  const auto registered_file = dir.write("registered.pem", registered.certificate_pem);
  const auto cert_file = dir.write("client.pem", other.certificate_pem);
  const auto key_file = dir.write("client.key", other.private_key_pem);
  FakeApi api({"--client-cert", registered_file.string()}, 5);
  ConfigOptions options{.schema = schema.name()};
  options.secret = false;
  options.extra_tenant = "    certificate_file: " + cert_file.string() + "\n    private_key_file: " + key_file.string() + "\n";
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  tenant contoso token"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("AADSTS700027"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("certificate"), std::string::npos) << r.output;
}

TEST(Https, SyncsThroughTlsWithTheSimulatorsCertificateInCaFile) {
  TempSchema schema("tls");
  TempDir dir;
  const auto ca = (dir.path() / "ca.pem").string();
  FakeApi api({"--tls", "--ca-out", ca}, 15);
  ConfigOptions options{.schema = schema.name()};
  options.ca_file = ca;
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"sync", "--dataset", "noncpe"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_table_equals_truth(api, schema.name(), Dataset::noncpe);
}

TEST(Https, AnUntrustedCertificateIsRefused) {
  TempSchema schema("tls");
  TempDir dir;
  const auto ca = (dir.path() / "ca.pem").string();
  FakeApi api({"--tls", "--ca-out", ca}, 5);
  const auto config = write_config(dir, api, {.schema = schema.name()});
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("set http.ca_file"), std::string::npos) << r.output;
  EXPECT_EQ(api.admin_get("/_admin/stats").find("/api/machines"), std::string::npos);
}

TEST(Check, EveryCheckPassesOnAGoodSetup) {
  TempSchema schema("check");
  FakeApi api({}, 5);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name()});
  ASSERT_EQ(run_mdesync(config, {"migrate"}).exit_code, 0);
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* line : {"ok    config:", "ok    database: connected", "ok    schema:", "ok    tenant contoso token",
                           "ok    tenant contoso cpe", "ok    tenant contoso noncpe"})
    EXPECT_NE(r.output.find(line), std::string::npos) << line << "\n" << r.output;
}

TEST(Check, AWrongSecretSaysWhichSettingToFix) {
  TempSchema schema("check");
  FakeApi api({}, 5);
  TempDir dir;
  ConfigOptions options{.schema = schema.name()};
  options.secret_file = dir.write("wrong", "not-the-secret\n").string();
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("AADSTS7000215"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("client_secret_file"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not-the-secret"), std::string::npos) << r.output;
}

TEST(Check, AMissingPermissionNamesSoftwareReadAll) {
  TempSchema schema("check");
  FakeApi api({"--no-permission"}, 5);
  TempDir dir;
  const auto config = write_config(dir, api, {.schema = schema.name()});
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("FAIL  tenant contoso cpe"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("Software.Read.All"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("admin consent"), std::string::npos) << r.output;
}

TEST(Check, AnUnreachableApiHostSaysToCheckTheNetwork) {
  TempSchema schema("check");
  FakeApi api({}, 5);
  TempDir dir;
  ConfigOptions options{.schema = schema.name()};
  options.api_url = "http://127.0.0.1:9";  // discard port: nothing listens there
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("check that this machine can reach http://127.0.0.1:9"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
