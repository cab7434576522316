// The schema name reaches SQL only quoted, and a name the config does not accept
// never reaches PostgreSQL; a secret file others could read is never used.
#include <gtest/gtest.h>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

using model::Dataset;
namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void drop_schema(const std::string& name) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(name) + " CASCADE");
}

// TempSchema names are unique; this one is fixed, so it is cleared before and after.
struct DropSchemaGuard {
  explicit DropSchemaGuard(std::string n) : name(std::move(n)) { drop_schema(name); }
  ~DropSchemaGuard() {
    try {
      drop_schema(name);
    } catch (const std::exception&) {
      // a leftover schema in a throwaway cluster is harmless
    }
  }
  std::string name;
};

// A reserved word: valid for the config, a syntax error wherever it is not quoted.
TEST(SchemaName, AReservedWordWorksForEveryCommandBecauseItIsAlwaysQuoted) {
  const std::string schema = "select";
  DropSchemaGuard guard(schema);
  FakeApi api({}, 20);
  TempDir dir;
  ConfigOptions json_options{.schema = schema};
  const auto json = write_config(dir, api, json_options);
  TempDir export_dir;
  ConfigOptions export_options{.schema = schema};
  export_options.full_via = "export";
  const auto exported = write_config(export_dir, api, export_options);
  for (const auto& [config, args] : std::vector<std::pair<fs::path, std::vector<std::string>>>{
           {json, {"migrate"}},
           {json, {"sync", "--mode", "full", "--dataset", "cpe"}},
           {exported, {"sync", "--mode", "full", "--dataset", "noncpe"}},
           {json, {"sync", "--mode", "incremental"}},
           {json, {"check"}},
           {json, {"status", "--json"}}}) {
    const auto r = run_mdesync(config, args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << "\n" << r.output;
  }
  expect_table_equals_truth(api, schema, Dataset::cpe);
  expect_table_equals_truth(api, schema, Dataset::noncpe);
  EXPECT_EQ(query_value("SELECT count(*) FROM \"select\".sync_runs WHERE status = 'succeeded'"), "4");
}

TEST(SchemaName, ANameWithQuotesOrSemicolonsIsRefusedBeforeAnySql) {
  FakeApi api({}, 5);
  for (const std::string bad : {"'mde\"\"; drop schema public; --'", "'Mde'", "'mde x'", "'pg_catalog; select 1'"}) {
    TempDir dir;
    const auto config = write_config(dir, api, {.schema = bad});
    const auto r = run_mdesync(config, {"migrate"});
    EXPECT_EQ(r.exit_code, 3) << bad << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "database.schema: must be a valid identifier")) << r.output;
  }
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_namespace WHERE nspname ILIKE 'mde%' AND nspname ~ '[^a-z0-9_]'"), "0");
  EXPECT_EQ(query_value("SELECT count(*) FROM pg_namespace WHERE nspname = 'public'"), "1");
}

TEST(SecretFiles, AClientSecretOthersCanReadIsRefusedBeforeItIsSent) {
  TempSchema schema("secret");
  FakeApi api({}, 5);
  for (const auto perms : {fs::perms::owner_read | fs::perms::others_read, fs::perms::owner_read | fs::perms::group_read,
                           fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_write}) {
    TempDir dir;
    ConfigOptions options{.schema = schema.name()};
    options.secret_file = dir.write("secret", fake_secret + "\n", perms).string();
    const auto config = write_config(dir, api, options);
    const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_TRUE(contains(r.output, "by group or others")) << r.output;
    EXPECT_TRUE(contains(r.output, "chmod 600")) << r.output;
  }
  EXPECT_FALSE(contains(api.admin_get("/_admin/stats"), "oauth2")) << "a token was requested with the exposed secret";
}

TEST(SecretFiles, APrivateKeyOthersCanReadIsRefusedBeforeItIsUsed) {
  TempSchema schema("secret");
  TempDir dir;
  const auto cert = make_self_signed("mdesync-perm-client");
  const auto cert_file = dir.write("client.pem", cert.certificate_pem, fs::perms::owner_read | fs::perms::others_read);
  const auto key_file = dir.write("client.key", cert.private_key_pem, fs::perms::owner_read | fs::perms::group_read);
  FakeApi api({"--client-cert", cert_file.string()}, 5);
  ConfigOptions options{.schema = schema.name()};
  options.secret = false;
  options.extra_tenant = "    certificate_file: " + cert_file.string() + "\n    private_key_file: " + key_file.string() + "\n";
  const auto config = write_config(dir, api, options);
  const auto r = run_mdesync(config, {"sync", "--dataset", "cpe"});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "private_key_file")) << r.output;
  EXPECT_TRUE(contains(r.output, "chmod 600")) << r.output;
  EXPECT_FALSE(contains(api.admin_get("/_admin/stats"), "oauth2"));
}

}  // namespace
}  // namespace mdesync::testing
