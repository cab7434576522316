// Every committed fuzz input, seeds and crashers alike, through the same target
// functions the libFuzzer binaries run (tests/fuzz/targets.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "parse/page.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

namespace fs = std::filesystem;
using Target = void (*)(std::string_view);

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `seeds`: the corpus directory, which page_stream shares with page.
std::vector<fs::path> inputs(std::string_view target, std::string_view seeds) {
  std::vector<fs::path> files;
  for (const auto& [kind, name] : {std::pair{"corpus", seeds}, std::pair{"regressions", target}}) {
    const fs::path dir = fs::path(MDESYNC_FUZZ_DIR) / kind / name;
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void replay(std::string_view name, Target target, std::string_view seeds = {}) {
  if (seeds.empty()) seeds = name;
  const auto files = inputs(name, seeds);
  ASSERT_FALSE(files.empty()) << "tests/fuzz/corpus/" << seeds << " is empty";
  for (const auto& file : files) {
    try {
      target(read_file(file));
    } catch (const InvariantBroken& e) {
      ADD_FAILURE() << file.string() << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << file.string() << ": escaped " << typeid(e).name() << ": " << e.what();
    }
  }
  std::cout << name << ": replayed " << files.size() << " files\n";
}

TEST(FuzzRegressions, PageCorpusAndCrashersKeepEveryInvariant) { replay("page", &page); }
TEST(FuzzRegressions, PageStreamGivesParsePageResultsOnThePageCorpus) { replay("page_stream", &page_stream, "page"); }
TEST(FuzzRegressions, NdjsonCorpusAndCrashersKeepEveryInvariant) { replay("ndjson", &ndjson); }
TEST(FuzzRegressions, ConfigCorpusAndCrashersKeepEveryInvariant) { replay("config", &config); }
TEST(FuzzRegressions, TokenCorpusAndCrashersKeepEveryInvariant) { replay("token", &token); }

// The first crasher (tests/fuzz/regressions/page/export_generated_time_year_5634.json):
// a generatedTime past what a system_clock time point holds overflowed while
// being parsed and came out as some other time. It is refused instead.
TEST(FuzzRegressions, ExportGeneratedTimeBeyondTheClockRangeIsRefused) {
  for (const char* time : {"5634-05-30T11:01:00Z", "2262-04-12T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01"}) {
    const std::string body = std::string(R"({"exportFiles":[],"generatedTime":")") + time + "\"}";
    try {
      (void)parse::parse_export_response(body);
      ADD_FAILURE() << time << " was accepted";
    } catch (const parse::PageError& e) {
      EXPECT_NE(std::string(e.what()).find("\"generatedTime\" is not a timestamp"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(parse::parse_export_response(R"({"exportFiles":[],"generatedTime":"2199-12-31T23:59:59Z"})").generated_time,
            "2199-12-31T23:59:59Z");
}

}  // namespace
}  // namespace mdesync::fuzz
