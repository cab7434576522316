// Fixture-driven, PgBouncer style: a broken file and, beside it, the exact
// problems it must produce.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "config_test_util.hpp"

namespace mdesync::config {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(MDESYNC_FIXTURES_DIR "/config/") + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

TEST(ConfigFixtures, ManyErrorsAreAllReportedInLineOrder) {
  std::vector<std::string> problems;
  try {
    (void)load_string(read_fixture("many_errors.yaml"), "many_errors.yaml");
  } catch (const ConfigError& e) {
    problems = e.problems();
  }
  const auto expected = lines_of(read_fixture("many_errors.expected"));
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(problems, expected);
}

}  // namespace
}  // namespace mdesync::config
