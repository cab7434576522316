#include <gtest/gtest.h>

#include "daemon/cli.hpp"

namespace mdesync::cli {
namespace {

ParseResult p(std::vector<std::string> args) { return parse(args); }

TEST(Cli, HelpAndVersion) {
  EXPECT_EQ(p({"--help"}).command->name, "help");
  EXPECT_EQ(p({"-h"}).command->name, "help");
  EXPECT_EQ(p({"--version"}).command->name, "version");
  EXPECT_EQ(p({"sync", "--help"}).command->name, "help");
}

TEST(Cli, NoCommandOrUnknownCommandIsAnError) {
  EXPECT_EQ(p({}).error, "no command given");
  EXPECT_EQ(p({"frobnicate"}).error, "unknown command 'frobnicate'");
}

TEST(Cli, MigrateNeedsConfig) {
  EXPECT_EQ(p({"migrate"}).error, "mdesync migrate: --config FILE is required");
  const auto r = p({"migrate", "--config", "/etc/m.yaml"});
  ASSERT_TRUE(r.command);
  EXPECT_EQ(r.command->config_path, "/etc/m.yaml");
  EXPECT_EQ(p({"migrate", "--config=/x.yaml"}).command->config_path, "/x.yaml");
  EXPECT_EQ(p({"migrate", "--config"}).error, "mdesync migrate: --config needs a value");
}

TEST(Cli, SyncTakesModeDatasetTenantAndForce) {
  const auto r = p({"sync", "--config", "c.yaml", "--mode", "full", "--dataset", "noncpe", "--tenant", "contoso",
                    "--force"});
  ASSERT_TRUE(r.command) << r.error;
  EXPECT_EQ(r.command->mode, "full");
  EXPECT_EQ(r.command->dataset, "noncpe");
  EXPECT_EQ(r.command->tenant, "contoso");
  EXPECT_TRUE(r.command->force);
}

TEST(Cli, BadValuesAndUnknownOptionsAreNamed) {
  EXPECT_EQ(p({"sync", "--config", "c", "--mode", "partial"}).error,
            "mdesync sync: --mode must be full or incremental, got 'partial'");
  EXPECT_EQ(p({"sync", "--config", "c", "--dataset", "all"}).error,
            "mdesync sync: --dataset must be cpe or noncpe, got 'all'");
  EXPECT_EQ(p({"migrate", "--config", "c", "--force"}).error, "mdesync migrate: unknown option '--force'");
  EXPECT_EQ(p({"sync", "--config", "c", "--force=yes"}).error, "mdesync sync: --force takes no value");
}

}  // namespace
}  // namespace mdesync::cli
