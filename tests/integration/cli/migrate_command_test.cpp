// The mdesync binary's own commands, as a user runs them.
#include <gtest/gtest.h>

#include "support/fake_api.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

std::filesystem::path config_for(const TempDir& dir, const std::string& url, const std::string& schema) {
  return dir.write("m.yaml", "database:\n  url: \"" + url + "\"\n  schema: " + schema +
                                 "\ntenants:\n  - name: contoso\n    tenant_id: t\n    client_id: c\n"
                                 "    client_secret_env: MDESYNC_TEST_SECRET\n");
}

TEST(MigrateCommand, CreatesTheSchemaAndIsIdempotent) {
  TempSchema schema("cli");
  TempDir dir;
  const auto config = config_for(dir, database_url(), schema.name());
  auto r = run({mdesync_binary(), "migrate", "--config", config.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("event=migrated"), std::string::npos) << r.output;
  EXPECT_EQ(query_value("SELECT count(*) > 1 AND count(*) = max(version) FROM \"" + schema.name() + "\".schema_migrations"), "t");
  r = run({mdesync_binary(), "migrate", "--config", config.string()});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("applied=0"), std::string::npos) << r.output;
}

TEST(MigrateCommand, AnUnreachableDatabaseExitsWithFour) {
  TempDir dir;
  const auto config = config_for(dir, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", "mde");
  const auto r = run({mdesync_binary(), "migrate", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find("database unreachable"), std::string::npos) << r.output;
}

TEST(MigrateCommand, AnInvalidConfigExitsWithThreeAndNamesTheLine) {
  TempDir dir;
  const auto config = dir.write("bad.yaml", "database:\n  url: \"x\"\nsync:\n  page_size: 0\n");
  const auto r = run({mdesync_binary(), "migrate", "--config", config.string()});
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_NE(r.output.find("bad.yaml:4: sync.page_size: must be 1..200000, got 0"), std::string::npos) << r.output;
}

TEST(Binary, HelpVersionAndUsageErrors) {
  auto r = run({mdesync_binary(), "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("migrate --config FILE"), std::string::npos) << r.output;
  r = run({mdesync_binary(), "--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output.rfind("mdesync ", 0), 0u) << r.output;
  r = run({mdesync_binary(), "bogus"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("unknown command 'bogus'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
