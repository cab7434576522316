// The fuzz targets are only as strict as their checks: each check must refuse
// the breakage it names, or a clean fuzz run proves nothing.
#include "invariants.hpp"

#include <gtest/gtest.h>

#include <string>

#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

// A valid CPE line: tenant plus one field per column, all \N but the first two,
// then extra_fields.
std::string cpe_line(std::string_view device, std::string_view name = "x") {
  std::string line = "fuzz\t" + std::string(device) + "\t" + std::string(name);
  for (std::size_t i = 2; i < model::spec(model::Dataset::cpe).columns.size(); ++i) line += "\t\\N";
  return line + "\t\\N\n";
}

TEST(FuzzInvariants, CopyCheckAcceptsWhatCopyTextWrites) {
  EXPECT_NO_THROW(check_copy_lines(cpe_line("d\\\\1\\t\\n\\r") + cpe_line("\xc3\xa9"), model::Dataset::cpe, 2));
  EXPECT_NO_THROW(check_copy_lines("", model::Dataset::noncpe, 0));
}

TEST(FuzzInvariants, CopyCheckRefusesLinesPostgresWouldMisread) {
  const auto refused = [](const std::string& copy, std::size_t rows = 1) {
    EXPECT_THROW(check_copy_lines(copy, model::Dataset::cpe, rows), InvariantBroken) << copy;
  };
  refused(cpe_line("a\rb"));                                   // raw CR inside a field
  refused(cpe_line("a\\xb"));                                  // an escape copy_text never writes
  refused(cpe_line("a\\"));                                    // a field ending in a lone backslash
  refused(cpe_line("\xed\xa0\x80"));                           // a UTF-16 surrogate
  refused(cpe_line("a\tb"));                                   // a shifted column
  refused(cpe_line("a").substr(0, cpe_line("a").size() - 1));  // no final newline
  refused(cpe_line("a"), 2);                                   // rows counted that are not there
  const auto with_extra = [](const std::string& extra) {
    const std::string line = cpe_line("e");
    return line.substr(0, line.size() - 3) + extra + "\n";  // replaces the \N of extra_fields
  };
  EXPECT_NO_THROW(check_copy_lines(with_extra(R"({"a":1e400,"b":"\\\\u0000"})"), model::Dataset::cpe, 1));
  refused(with_extra(R"({"a":"\\u0000"})"));                     // jsonb refuses the escape
  refused(with_extra(R"({"a":tru})"));                           // not JSON
  refused(with_extra(R"([1])"));                                 // not an object
}

TEST(FuzzInvariants, Utf8CheckRefusesWhatPostgresRefuses) {
  EXPECT_TRUE(valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xc0\x80"));          // overlong NUL
  EXPECT_FALSE(valid_utf8("\xe0\x80\x80"));      // overlong
  EXPECT_FALSE(valid_utf8("\xed\xbf\xbf"));      // low surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(valid_utf8("\x80"));              // stray continuation byte
}

TEST(FuzzInvariants, LogSafetyRefusesRawControlCharacters) {
  EXPECT_NO_THROW(check_log_safe("deviceId: missing", "reason"));
  EXPECT_THROW(check_log_safe("line one\nforged=line", "reason"), InvariantBroken);
  EXPECT_THROW(check_log_safe("bell\x07", "reason"), InvariantBroken);
  EXPECT_THROW(check_log_safe("\xff", "reason"), InvariantBroken);
}

}  // namespace
}  // namespace mdesync::fuzz
