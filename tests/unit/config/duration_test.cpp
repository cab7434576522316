// core's parse_duration, as config keys use it: the edge cases a user can type.
#include "core/duration.hpp"

#include <gtest/gtest.h>

namespace mdesync {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, EveryUnit) {
  EXPECT_EQ(parse_duration("0s"), 0ms);
  EXPECT_EQ(parse_duration("500ms"), 500ms);
  EXPECT_EQ(parse_duration("90s"), 90s);
  EXPECT_EQ(parse_duration("15m"), 15min);
  EXPECT_EQ(parse_duration("1h"), 1h);
  EXPECT_EQ(parse_duration("2d"), 48h);
}

TEST(ParseDuration, GarbageIsRefused) {
  for (const char* bad : {"", "s", "abc", "1", "1w", "1H", "1.5h", " 1h", "1h ", "1 h", "1h30m", "0x10s", "ms"})
    EXPECT_EQ(parse_duration(bad), std::nullopt) << '"' << bad << '"';
}

TEST(ParseDuration, NegativeIsRefused) {
  EXPECT_EQ(parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(parse_duration("-0s"), 0ms);  // from_chars reads -0 as 0: harmless, and zero checks still apply
}

TEST(ParseDuration, OverflowIsRefused) {
  EXPECT_EQ(parse_duration("99999999999999999999s"), std::nullopt);  // does not fit 64 bits
  EXPECT_EQ(parse_duration("106751991167d"), std::nullopt);          // fits, but its milliseconds would not
  EXPECT_EQ(parse_duration("3661d"), std::nullopt);                  // beyond ten years
  EXPECT_EQ(parse_duration("3660d"), std::chrono::hours(24 * 3660));
}

}  // namespace
}  // namespace mdesync
