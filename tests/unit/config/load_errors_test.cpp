// Every way a file can be wrong outside the tenants section, each with the
// exact message the user reads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::config {
namespace {

using test::base;
using test::problems_of;
using ::testing::ElementsAre;

TEST(ConfigErrors, BaseDocumentLoads) { EXPECT_THAT(problems_of(base), ElementsAre()); }

TEST(ConfigErrors, UnknownKeySuggestsTheCloseOne) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_sise: 100\n"),
              ElementsAre("config.yaml:9: sync.page_sise: unknown key (did you mean page_size?)"));
}

TEST(ConfigErrors, UnknownKeySuggestsAcrossCaseAndSwappedLetters) {
  EXPECT_THAT(problems_of(base + "sync:\n  Page_Size: 100\n  full_inetrval: 1h\n"),
              ElementsAre("config.yaml:9: sync.Page_Size: unknown key (did you mean page_size?)",
                          "config.yaml:10: sync.full_inetrval: unknown key (did you mean full_interval?)"));
}

TEST(ConfigErrors, UnknownKeyFarFromAnyKnownOneHasNoSuggestion) {
  EXPECT_THAT(problems_of(base + "sync:\n  colour: blue\n"), ElementsAre("config.yaml:9: sync.colour: unknown key"));
}

TEST(ConfigErrors, UnknownSectionSuggestsTheCloseOne) {
  EXPECT_THAT(problems_of(base + "sinc:\n  page_size: 100\n"),
              ElementsAre("config.yaml:8: sinc: unknown key (did you mean sync?)"));
}

TEST(ConfigErrors, KeyGivenTwiceIsReported) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_size: 100\n  page_size: 200\n"),
              ElementsAre("config.yaml:10: sync.page_size: given twice (first on line 9)"));
}

TEST(ConfigErrors, TextWhereAnIntegerBelongs) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_size: abc\n"),
              ElementsAre("config.yaml:9: sync.page_size: expected an integer, got abc"));
}

TEST(ConfigErrors, FractionWhereAnIntegerBelongs) {
  EXPECT_THAT(problems_of(base + "limits:\n  json_per_hour: 1.5\n"),
              ElementsAre("config.yaml:9: limits.json_per_hour: expected an integer, got 1.5"));
}

TEST(ConfigErrors, MapWhereAScalarBelongs) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_size:\n    value: 100\n"),
              ElementsAre("config.yaml:9: sync.page_size: expected an integer, got a map"));
}

TEST(ConfigErrors, SequenceWhereAStringBelongs) {
  EXPECT_THAT(problems_of(base + "metrics:\n  listen: [a, b]\n"),
              ElementsAre("config.yaml:9: metrics.listen: expected a string, got a sequence"));
}

TEST(ConfigErrors, EmptyValueWhereAScalarBelongs) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_size:\n"),
              ElementsAre("config.yaml:9: sync.page_size: expected an integer, got no value"));
}

TEST(ConfigErrors, NonNumberForTheRatio) {
  EXPECT_THAT(problems_of(base + "sync:\n  max_removal_ratio: lots\n"),
              ElementsAre("config.yaml:9: sync.max_removal_ratio: expected a number, got lots"));
}

TEST(ConfigErrors, SequenceWhereASectionBelongs) {
  EXPECT_THAT(problems_of(base + "sync:\n  - page_size\n"),
              ElementsAre("config.yaml:8: sync: expected a map, got a sequence"));
}

TEST(ConfigErrors, ScalarWhereASectionBelongs) {
  EXPECT_THAT(problems_of(base + "log: debug\n"), ElementsAre("config.yaml:8: log: expected a map, got debug"));
}

TEST(ConfigErrors, TopLevelThatIsNotAMap) {
  EXPECT_THAT(problems_of("- database\n- tenants\n"),
              ElementsAre("config.yaml:1: expected a map of sections (database, tenants, ...), got a sequence"));
}

TEST(ConfigErrors, EmptyFileNamesTheRequiredSections) {
  EXPECT_THAT(problems_of("# nothing yet\n"),
              ElementsAre("config.yaml:1: database: required", "config.yaml:1: tenants: required"));
}

TEST(ConfigErrors, MissingDatabaseUrlIsReportedAtItsSection) {
  EXPECT_THAT(problems_of("database:\n  schema: mde\n" + base.substr(base.find("tenants:"))),
              ElementsAre("config.yaml:1: database.url: required"));
}

TEST(ConfigErrors, EmptyDatabaseSectionStillNeedsUrl) {
  EXPECT_THAT(problems_of("database:\n" + base.substr(base.find("tenants:"))),
              ElementsAre("config.yaml:1: database.url: required"));
}

TEST(ConfigErrors, EmptyDatabaseUrl) {
  EXPECT_THAT(problems_of("database:\n  url: \"\"\n" + base.substr(base.find("tenants:"))),
              ElementsAre("config.yaml:2: database.url: must not be empty"));
}

TEST(ConfigErrors, MissingTenants) {
  EXPECT_THAT(problems_of("database:\n  url: postgresql:///mde\n"), ElementsAre("config.yaml:1: tenants: required"));
}

TEST(ConfigErrors, EmptyTenantList) {
  EXPECT_THAT(problems_of("database:\n  url: postgresql:///mde\ntenants: []\n"),
              ElementsAre("config.yaml:3: tenants: must list at least one tenant"));
}

TEST(ConfigErrors, TenantsAsAMap) {
  EXPECT_THAT(problems_of("database:\n  url: postgresql:///mde\ntenants:\n  name: contoso\n"),
              ElementsAre("config.yaml:3: tenants: expected a sequence of tenants, got a map"));
}

TEST(ConfigErrors, BadSchemaNames) {
  const std::string rest = base.substr(base.find("tenants:"));
  for (const std::string& bad : std::vector<std::string>{"9abc", "Mde", "mde-prod", "\"\"", std::string(64, 'a')}) {
    EXPECT_THAT(
        problems_of("database:\n  url: x\n  schema: " + bad + "\n" + rest),
        ElementsAre("config.yaml:3: database.schema: must be a valid identifier [a-z_][a-z0-9_]{0,62}, got " + bad))
        << bad;
  }
}

TEST(ConfigErrors, GoodSchemaNames) {
  const std::string rest = base.substr(base.find("tenants:"));
  for (const std::string& good : std::vector<std::string>{"mde", "_x", "mde_2", std::string(63, 'a')})
    EXPECT_THAT(problems_of("database:\n  url: x\n  schema: " + good + "\n" + rest), ElementsAre()) << good;
}

// ---- Numeric ranges: each key, just outside and just inside its bounds -----

struct RangeCase {
  std::string section, key, value;
  std::string message;  // empty: accepted
};

class NumericRange : public ::testing::TestWithParam<RangeCase> {};

TEST_P(NumericRange, IsCheckedWithItsBounds) {
  const auto& c = GetParam();
  const auto problems = problems_of(base + c.section + ":\n  " + c.key + ": " + c.value + "\n");
  if (c.message.empty())
    EXPECT_THAT(problems, ElementsAre());
  else
    EXPECT_THAT(problems, ElementsAre("config.yaml:9: " + c.section + "." + c.key + ": " + c.message));
}

INSTANTIATE_TEST_SUITE_P(
    AllNumericKeys, NumericRange,
    ::testing::Values(RangeCase{"sync", "page_size", "0", "must be 1..200000, got 0"},
                      RangeCase{"sync", "page_size", "200001", "must be 1..200000, got 200001"},
                      RangeCase{"sync", "page_size", "-5", "must be 1..200000, got -5"},
                      RangeCase{"sync", "page_size", "99999999999999999999",
                                "expected an integer, got 99999999999999999999"},
                      RangeCase{"sync", "page_size", "1", ""}, RangeCase{"sync", "page_size", "200000", ""},
                      RangeCase{"sync", "download_concurrency", "0", "must be 1..64, got 0"},
                      RangeCase{"sync", "download_concurrency", "65", "must be 1..64, got 65"},
                      RangeCase{"sync", "download_concurrency", "1", ""},
                      RangeCase{"sync", "download_concurrency", "64", ""},
                      RangeCase{"sync", "digest_rows_limit", "-1", "must be 0..1000000000, got -1"},
                      RangeCase{"sync", "digest_rows_limit", "0", ""},
                      RangeCase{"sync", "max_removal_ratio", "-0.1", "must be 0..1, got -0.1"},
                      RangeCase{"sync", "max_removal_ratio", "1.5", "must be 0..1, got 1.5"},
                      RangeCase{"sync", "max_removal_ratio", ".nan", "expected a number, got .nan"},
                      RangeCase{"sync", "max_removal_ratio", "0", ""}, RangeCase{"sync", "max_removal_ratio", "1", ""},
                      RangeCase{"limits", "json_per_minute", "0", "must be at least 1, got 0"},
                      RangeCase{"limits", "json_per_hour", "0", "must be at least 1, got 0"},
                      RangeCase{"limits", "export_per_minute", "0", "must be at least 1, got 0"},
                      RangeCase{"limits", "export_per_hour", "-1", "must be at least 1, got -1"},
                      RangeCase{"limits", "export_per_hour", "1", ""}));

// ---- Durations: every duration key, with garbage, negatives and zero ------

struct DurationKey {
  std::string section, key;
  bool zero_allowed;
};

class DurationKeys : public ::testing::TestWithParam<DurationKey> {};

TEST_P(DurationKeys, RefuseWhatIsNotADuration) {
  const auto& d = GetParam();
  for (const std::string bad : {"soon", "-1h", "1w", "90", "1.5h", "1 h"}) {
    EXPECT_THAT(problems_of(base + d.section + ":\n  " + d.key + ": " + bad + "\n"),
                ElementsAre("config.yaml:9: " + d.section + "." + d.key +
                            ": expected a duration like 90s, 15m, 1h or 2d, got " + bad))
        << bad;
  }
}

TEST_P(DurationKeys, ZeroIsRefusedUnlessItMeansNothingToDo) {
  const auto& d = GetParam();
  const auto problems = problems_of(base + d.section + ":\n  " + d.key + ": 0s\n");
  if (d.zero_allowed)
    EXPECT_THAT(problems, ElementsAre());
  else
    EXPECT_THAT(problems,
                ElementsAre("config.yaml:9: " + d.section + "." + d.key + ": must be greater than 0, got 0s"));
}

TEST_P(DurationKeys, AcceptEveryUnit) {
  const auto& d = GetParam();
  for (const std::string good : {"500ms", "90s", "15m", "1h", "2d"})
    EXPECT_THAT(problems_of(base + d.section + ":\n  " + d.key + ": " + good + "\n"), ElementsAre()) << good;
}

INSTANTIATE_TEST_SUITE_P(AllDurationKeys, DurationKeys,
                         ::testing::Values(DurationKey{"sync", "incremental_interval", false},
                                           DurationKey{"sync", "full_interval", false},
                                           DurationKey{"sync", "watermark_overlap", true},
                                           DurationKey{"http", "timeout", false}));

// ---- Enumerations ---------------------------------------------------------

TEST(ConfigErrors, BadEnumValues) {
  EXPECT_THAT(problems_of(base + "sync:\n  full_via: ftp\nlog:\n  level: loud\n  format: xml\n"),
              ElementsAre("config.yaml:9: sync.full_via: must be one of export, json, got ftp",
                          "config.yaml:11: log.level: must be one of debug, info, warn, error, got loud",
                          "config.yaml:12: log.format: must be one of text, json, got xml"));
}

TEST(ConfigErrors, EnumValuesAreCaseSensitive) {
  EXPECT_THAT(problems_of(base + "log:\n  level: INFO\n"),
              ElementsAre("config.yaml:9: log.level: must be one of debug, info, warn, error, got INFO"));
}

// ---- metrics.listen -------------------------------------------------------

TEST(ConfigErrors, BadListenAddresses) {
  for (const std::string bad : {"9464", "localhost", ":9464", "127.0.0.1:0", "127.0.0.1:65536", "[::1", "[nope]:9464",
                                "::1:9464", "host:port"}) {
    EXPECT_THAT(problems_of(base + "metrics:\n  listen: \"" + bad + "\"\n"),
                ElementsAre("config.yaml:9: metrics.listen: expected host:port or [v6-address]:port, got " + bad))
        << bad;
  }
}

TEST(ConfigErrors, GoodListenAddresses) {
  for (const std::string good : {"127.0.0.1:9464", "[::1]:9464", "[::]:1", "metrics.internal:65535"})
    EXPECT_THAT(problems_of(base + "metrics:\n  listen: \"" + good + "\"\n"), ElementsAre()) << good;
}

// ---- http.ca_file and ${VAR} ----------------------------------------------

TEST(ConfigErrors, MissingCaFile) {
  EXPECT_THAT(
      problems_of(base + "http:\n  ca_file: /nonexistent/mdesync/ca.pem\n"),
      ElementsAre("config.yaml:9: http.ca_file: cannot read /nonexistent/mdesync/ca.pem: No such file or directory"));
}

TEST(ConfigErrors, CaFileThatIsADirectory) {
  testing::TempDir dir;
  EXPECT_THAT(problems_of(base + "http:\n  ca_file: " + dir.path().string() + "\n"),
              ElementsAre("config.yaml:9: http.ca_file: cannot read " + dir.path().string() + ": not a regular file"));
}

TEST(ConfigErrors, CaFileWithEnvironmentVariableIsExpanded) {
  testing::TempDir dir;
  dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\n");
  test::ScopedEnv env("MDESYNC_TEST_CA_DIR", dir.path().string());
  const Config c = load_string(base + "http:\n  ca_file: ${MDESYNC_TEST_CA_DIR}/ca.pem\n", "config.yaml");
  EXPECT_EQ(c.http.ca_file, (dir.path() / "ca.pem").string());
}

TEST(ConfigErrors, UnsetVariableInCaFileIsNamed) {
  test::ScopedEnv env("MDESYNC_TEST_UNSET", std::nullopt);
  EXPECT_THAT(problems_of(base + "http:\n  ca_file: ${MDESYNC_TEST_UNSET}/ca.pem\n"),
              ElementsAre("config.yaml:9: http.ca_file: environment variable MDESYNC_TEST_UNSET is not set"));
}

// ---- YAML syntax, several problems at once, files -------------------------

TEST(ConfigErrors, YamlSyntaxErrorGivesTheLine) {
  EXPECT_THAT(problems_of(base + "sync:\n  page_size: [1, 2\n  full_via: json\n"),
              ElementsAre("config.yaml:10: YAML syntax error: end of sequence flow not found"));
}

TEST(ConfigErrors, BadIndentationIsASyntaxError) {
  EXPECT_THAT(problems_of("database:\n  url: x\n schema: mde\n"),
              ElementsAre("config.yaml:3: YAML syntax error: end of map not found"));
}

TEST(ConfigErrors, EveryProblemIsReportedInLineOrderAndJoinedInWhat) {
  const std::string doc = base + "log:\n  format: xml\nsync:\n  page_size: 0\n  full_via: ftp\n";
  try {
    (void)load_string(doc, "config.yaml");
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre("config.yaml:9: log.format: must be one of text, json, got xml",
                                          "config.yaml:11: sync.page_size: must be 1..200000, got 0",
                                          "config.yaml:12: sync.full_via: must be one of export, json, got ftp"));
    EXPECT_STREQ(e.what(),
                 "config.yaml:9: log.format: must be one of text, json, got xml\n"
                 "config.yaml:11: sync.page_size: must be 1..200000, got 0\n"
                 "config.yaml:12: sync.full_via: must be one of export, json, got ftp");
  }
}

TEST(ConfigErrors, LoadFileNamesThePathAsGiven) {
  testing::TempDir dir;
  const auto path = dir.write("mdesync.yaml", base + "sync:\n  page_size: 0\n");
  try {
    (void)load_file(path);
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre(path.string() + ":9: sync.page_size: must be 1..200000, got 0"));
  }
}

TEST(ConfigErrors, LoadFileThatDoesNotExist) {
  try {
    (void)load_file("/nonexistent/mdesync.yaml");
    FAIL() << "loaded";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.problems(), ElementsAre("/nonexistent/mdesync.yaml: cannot read: No such file or directory"));
  }
}

}  // namespace
}  // namespace mdesync::config
