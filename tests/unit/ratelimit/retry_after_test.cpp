#include "ratelimit/retry_after.hpp"

#include <gtest/gtest.h>

#include "core/timestamp.hpp"

namespace mdesync::ratelimit {
namespace {

using namespace std::chrono_literals;

const SystemTime now = *parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");

TEST(RetryAfter, DelaySeconds) {
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after("0", now), 0s);
  EXPECT_EQ(parse_retry_after(" 5\t", now), 5s);
  EXPECT_EQ(parse_retry_after("1000000000", now), 1'000'000'000s);
}

TEST(RetryAfter, HttpDate) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now), 30s);
  EXPECT_EQ(parse_retry_after("Mon, 07 Nov 1994 08:49:37 GMT", now), 24h);
}

TEST(RetryAfter, HttpDateBetweenSecondsRoundsUp) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:38 GMT", now - 1500ms), 2500ms);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:38 GMT", now + 1ns), 1000ms);
}

TEST(RetryAfter, DateInThePastIsNoWait) {
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 0ms);
  EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), 0ms);
}

TEST(RetryAfter, GarbageIsNothing) {
  for (const char* bad :
       {"", "  ", "soon", "-5", "1.5", "5s", "5 s", "+5", "0x10", "99999999999999999999", "1000000001",
        "Sun, 06 Nov 1994 08:49:37 PST", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"})
    EXPECT_EQ(parse_retry_after(bad, now), std::nullopt) << '"' << bad << '"';
}

}  // namespace
}  // namespace mdesync::ratelimit
