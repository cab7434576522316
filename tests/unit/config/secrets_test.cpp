// Reading client secrets: file permissions, empty files, newlines, the environment.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

TenantOptions file_tenant(const fs::path& path) {
  TenantOptions t;
  t.name = "contoso";
  t.secret.kind = SecretKind::file;
  t.secret.path = path.string();
  return t;
}

TenantOptions env_tenant(const std::string& var) {
  TenantOptions t;
  t.name = "contoso";
  t.secret.kind = SecretKind::env;
  t.secret.env = var;
  return t;
}

std::vector<std::string> problems_reading(const TenantOptions& t) {
  try {
    (void)read_client_secret(t);
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

constexpr auto rw_owner = fs::perms::owner_read | fs::perms::owner_write;

TEST(ClientSecret, OwnerOnlyFileIsRead) {
  testing::TempDir dir;
  EXPECT_EQ(read_client_secret(file_tenant(dir.write("s", "s3cret", rw_owner))), "s3cret");
  EXPECT_EQ(read_client_secret(file_tenant(dir.write("r", "r3ad", fs::perms::owner_read))), "r3ad");
}

TEST(ClientSecret, TrailingNewlinesAreStripped) {
  testing::TempDir dir;
  EXPECT_EQ(read_client_secret(file_tenant(dir.write("a", "s3cret\n"))), "s3cret");
  EXPECT_EQ(read_client_secret(file_tenant(dir.write("b", "s3cret\r\n\n"))), "s3cret");
  EXPECT_EQ(read_client_secret(file_tenant(dir.write("c", " in\nside \n"))), " in\nside ");
}

TEST(ClientSecret, GroupReadableFileIsRefused) {
  testing::TempDir dir;
  const auto path = dir.write("s", "s3cret", rw_owner | fs::perms::group_read);
  EXPECT_THAT(problems_reading(file_tenant(path)),
              ElementsAre("tenants[contoso]: secret file " + path.string() +
                          " is readable by group or others (mode 0640); chmod 600 it"));
}

TEST(ClientSecret, WorldReadableFileIsRefused) {
  testing::TempDir dir;
  const auto path = dir.write("s", "s3cret", rw_owner | fs::perms::others_read);
  EXPECT_THAT(problems_reading(file_tenant(path)),
              ElementsAre("tenants[contoso]: secret file " + path.string() +
                          " is readable by group or others (mode 0604); chmod 600 it"));
  const auto common = dir.write("t", "s3cret", rw_owner | fs::perms::group_read | fs::perms::others_read);
  EXPECT_THAT(problems_reading(file_tenant(common)),
              ElementsAre("tenants[contoso]: secret file " + common.string() +
                          " is readable by group or others (mode 0644); chmod 600 it"));
}

TEST(ClientSecret, GroupWritableFileIsRefused) {
  testing::TempDir dir;
  const auto path = dir.write("s", "s3cret", rw_owner | fs::perms::group_write);
  EXPECT_THAT(problems_reading(file_tenant(path)),
              ElementsAre("tenants[contoso]: secret file " + path.string() +
                          " is writable by group or others (mode 0620); chmod 600 it"));
}

TEST(ClientSecret, MissingFile) {
  testing::TempDir dir;
  const auto path = dir.path() / "absent";
  EXPECT_THAT(problems_reading(file_tenant(path)), ElementsAre("tenants[contoso]: cannot open secret file " +
                                                               path.string() + ": No such file or directory"));
}

TEST(ClientSecret, EmptyFile) {
  testing::TempDir dir;
  const auto path = dir.write("s", "");
  EXPECT_THAT(problems_reading(file_tenant(path)),
              ElementsAre("tenants[contoso]: secret file " + path.string() + " is empty"));
}

TEST(ClientSecret, FileOfOnlyNewlinesIsEmpty) {
  testing::TempDir dir;
  const auto path = dir.write("s", "\n\n");
  EXPECT_THAT(problems_reading(file_tenant(path)),
              ElementsAre("tenants[contoso]: secret file " + path.string() + " is empty"));
}

TEST(ClientSecret, DirectoryIsNotASecretFile) {
  testing::TempDir dir;
  EXPECT_THAT(problems_reading(file_tenant(dir.path())),
              ElementsAre("tenants[contoso]: secret file " + dir.path().string() + " is not a regular file"));
}

TEST(ClientSecret, FromTheEnvironment) {
  test::ScopedEnv env("MDESYNC_TEST_SECRET_VALUE", "from-env");
  EXPECT_EQ(read_client_secret(env_tenant("MDESYNC_TEST_SECRET_VALUE")), "from-env");
}

TEST(ClientSecret, UnsetVariable) {
  test::ScopedEnv env("MDESYNC_TEST_SECRET_VALUE", std::nullopt);
  EXPECT_THAT(
      problems_reading(env_tenant("MDESYNC_TEST_SECRET_VALUE")),
      ElementsAre("tenants[contoso]: environment variable MDESYNC_TEST_SECRET_VALUE (client_secret_env) is not set"));
}

TEST(ClientSecret, EmptyVariable) {
  test::ScopedEnv env("MDESYNC_TEST_SECRET_VALUE", "");
  EXPECT_THAT(
      problems_reading(env_tenant("MDESYNC_TEST_SECRET_VALUE")),
      ElementsAre("tenants[contoso]: environment variable MDESYNC_TEST_SECRET_VALUE (client_secret_env) is empty"));
}

TEST(ClientSecret, CertificateTenantHasNoSecret) {
  TenantOptions t;
  t.name = "contoso";
  t.secret.kind = SecretKind::certificate;
  EXPECT_THAT(problems_reading(t),
              ElementsAre("tenants[contoso]: authenticates with a certificate; it has no client secret"));
}

TEST(SecretFile, ReturnsTheBytesUnchanged) {
  testing::TempDir dir;
  const auto path = dir.write("k.pem", "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
  EXPECT_EQ(read_secret_file(path, "tenants[x]"), "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
}

TEST(SecretFile, AppliesThePermissionCheck) {
  testing::TempDir dir;
  const auto path = dir.write("k.pem", "key", rw_owner | fs::perms::others_read);
  EXPECT_THROW((void)read_secret_file(path, "tenants[x]"), ConfigError);
}

}  // namespace
}  // namespace mdesync::config
