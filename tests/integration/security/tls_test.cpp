// TLS end to end through the mdesync binary: a certificate it cannot verify, or
// one for another host, is refused with the fix; no setting turns verification
// off; plain http goes to loopback hosts only.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(Tls, CheckRefusesASelfSignedServerWithoutCaFileAndNamesTheFix) {
  TempSchema schema("tls");
  TempDir dir;
  const auto ca = (dir.path() / "ca.pem").string();
  FakeApi api({"--tls", "--ca-out", ca}, 5);
  const auto config = write_config(dir, api, {.schema = schema.name()});
  const auto r = run_mdesync(config, {"check"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "FAIL  tenant contoso token")) << r.output;
  EXPECT_TRUE(contains(r.output, "TLS certificate verification failed for host 127.0.0.1")) << r.output;
  EXPECT_TRUE(contains(r.output, "set http.ca_file")) << r.output;
  // Nothing went over the connection: neither the secret nor a data request.
  const auto stats = api.admin_get("/_admin/stats");
  EXPECT_FALSE(contains(stats, "oauth2")) << stats;
  EXPECT_FALSE(contains(stats, "/api/machines")) << stats;
}

class HostNameMismatch : public ::testing::TestWithParam<const char*> {};

TEST_P(HostNameMismatch, IsRefusedEvenWhenTheCertificateIsTrusted) {
  TempSchema schema("tls");
  TempDir dir;
  // Trusted through http.ca_file, but issued for a name the URL does not use.
  const auto cert = make_self_signed("elsewhere.invalid", {"DNS:elsewhere.invalid"});
  const auto cert_file = dir.write("server.pem", cert.certificate_pem);
  const auto key_file = dir.write("server.key", cert.private_key_pem);
  FakeApi api({"--tls", "--cert", cert_file.string(), "--key", key_file.string()}, 5);
  ConfigOptions options{.schema = schema.name()};
  options.ca_file = cert_file.string();
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {GetParam()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "TLS certificate verification failed for host 127.0.0.1: the certificate is for "))
      << r.output;
  EXPECT_TRUE(contains(r.output, "elsewhere.invalid")) << r.output;
  EXPECT_TRUE(contains(r.output, "check the host name in the URL")) << r.output;
  EXPECT_FALSE(contains(r.output, fake_secret)) << r.output;
}

INSTANTIATE_TEST_SUITE_P(Commands, HostNameMismatch, ::testing::Values("check", "sync"));

// The keys other tools use to switch verification off: each is an unknown key,
// so a config that asks for it does not load at all (exit 3).
TEST(Tls, NoSettingTurnsCertificateVerificationOff) {
  TempSchema schema("tls");
  FakeApi api({}, 5);
  for (const std::string line :
       {"  insecure: true", "  verify: false", "  tls_verify: false", "  verify_tls: false", "  ssl_verify: false",
        "  skip_verify: true", "  insecure_skip_verify: true", "  verify_peer: false", "  tls_insecure: true"}) {
    TempDir dir;
    const auto path = write_config(dir, api, {.schema = schema.name()});
    std::string yaml = read_file(path);
    yaml.replace(yaml.find("  timeout: 10s\n"), 0, line + "\n");
    const auto config = dir.write("mdesync.yaml", yaml);
    const auto r = run_mdesync(config, {"check"});
    EXPECT_EQ(r.exit_code, 3) << line << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "unknown key")) << line << "\n" << r.output;
  }
}

// The only TLS verification code is lib/http's; nothing in the product may set
// a mode that skips it.
TEST(Tls, NoSourceFileDisablesPeerVerification) {
  int files = 0;
  for (const char* dir : {"lib", "daemon"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(std::string(MDESYNC_SOURCE_DIR) + "/" + dir)) {
      if (!entry.is_regular_file()) continue;
      ++files;
      const std::string text = read_file(entry.path());
      for (const char* needle : {"verify_none", "SSL_VERIFY_NONE"})
        EXPECT_FALSE(contains(text, needle)) << entry.path() << " contains " << needle;
    }
  }
  EXPECT_GT(files, 50);
}

TEST(Tls, PlainHttpToAHostThatIsNotLoopbackIsRefusedAtLoad) {
  TempSchema schema("tls");
  FakeApi api({}, 5);
  for (const std::string url : {"http://api.securitycenter.microsoft.com", "http://10.0.0.1:8080",
                                "http://127.0.0.1@example.com"}) {
    TempDir dir;
    ConfigOptions options{.schema = schema.name()};
    options.api_url = url;
    const auto config = write_config(dir, api, options);
    const auto r = run_mdesync(config, {"check"});
    EXPECT_EQ(r.exit_code, 3) << url << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "api_url")) << r.output;
  }
}

}  // namespace
}  // namespace mdesync::testing
