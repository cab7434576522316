#include <gtest/gtest.h>

#include <vector>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"

namespace mdesync {
namespace {

TEST(Log, TextLinesAreKeyValueWithQuotingWhereNeeded) {
  const auto line = log::format_line(log::Level::warn, "pull finished", {{"tenant", "contoso"}, {"rows", 12},
                                                                         {"error", "a \"b\"\nc"}},
                                     log::Format::text, false);
  EXPECT_EQ(line, "level=warn event=\"pull finished\" tenant=contoso rows=12 error=\"a \\\"b\\\"\\nc\"");
  EXPECT_EQ(log::format_line(log::Level::info, "migrated", {{"applied", 0}}, log::Format::text, false),
            "level=info event=migrated applied=0");
}

TEST(Log, JsonLinesEscapeEverything) {
  const auto line = log::format_line(log::Level::error, "x", {{"error", "tab\there\x01"}}, log::Format::json, false);
  EXPECT_EQ(line, "{\"level\":\"error\",\"event\":\"x\",\"error\":\"tab\\there\\u0001\"}");
}

TEST(Log, RedactUrlDropsTheQueryString) {
  EXPECT_EQ(log::redact_url("https://acct.blob.core.windows.net/c/f.gz?sv=1&sig=SECRET"),
            "https://acct.blob.core.windows.net/c/f.gz?<redacted>");
  EXPECT_EQ(log::redact_url("https://host/path"), "https://host/path");
}

TEST(Log, RedactCutsEverySecretEverywhere) {
  EXPECT_EQ(log::redact("echo: s3cr%2Bt and s3cr+t, s3cr+t", {"s3cr+t", "s3cr%2Bt", ""}),
            "echo: <redacted> and <redacted>, <redacted>");
  // A secret that is part of "<redacted>" itself ends, too.
  EXPECT_EQ(log::redact("ed", {"ed"}), "<redacted>");
}

TEST(Timestamp, Iso8601ShapesParseToTheSameInstant) {
  const auto z = parse_iso8601("2020-12-30T10:11:12Z").value();
  EXPECT_EQ(parse_iso8601("2020-12-30 10:11:12").value(), z);
  EXPECT_EQ(parse_iso8601("2020-12-30T12:11:12+02:00").value(), z);
  EXPECT_EQ(parse_iso8601("2020-12-30 10:11:12+00").value(), z);
  EXPECT_EQ(format_iso8601_utc(parse_iso8601("2020-11-03 10:13:34.8476880").value()), "2020-11-03T10:13:34.847Z");
  EXPECT_FALSE(parse_iso8601("2020-02-30 00:00:00"));
  EXPECT_FALSE(parse_iso8601("yesterday"));
  EXPECT_FALSE(parse_iso8601("2020-12-30T10:11:12Zjunk"));
}

// parse_iso8601 and parse::append_timestamptz once had a lexer each; these are
// the shapes they disagreed on, decided once in lex_iso8601.
TEST(Timestamp, OneLexerDecidesTheShapesTheCopiesDisagreedOn) {
  const auto z = parse_iso8601("2020-12-30T10:11:12Z").value();
  EXPECT_EQ(parse_iso8601("2020-12-30t10:11:12z"), z);     // RFC 3339 5.6: lower case is fine
  EXPECT_FALSE(parse_iso8601("2020-12-30T12:11:12+02:"));  // an offset's colon needs minutes
  EXPECT_FALSE(parse_iso8601("2020-12-30Z"));              // a date alone has no offset
  EXPECT_FALSE(parse_iso8601("2020-12-30+02:00"));
  EXPECT_EQ(parse_iso8601("2020-12-30T12:11:12+0200"), z);
  EXPECT_EQ(parse_iso8601("2020-12-30T12:11:12+02"), z);
  EXPECT_EQ(parse_iso8601("2020-12-30T10:11:12.000000000000001Z"), z);  // past nanoseconds: ignored
}

TEST(Timestamp, LexerPointsIntoTheText) {
  Iso8601Fields f;
  ASSERT_TRUE(lex_iso8601("2021-05-19 18:35:49.924-05:30", f));
  EXPECT_EQ(f.date, "2021-05-19");
  EXPECT_EQ(f.hh, "18");
  EXPECT_EQ(f.ss, "49");
  EXPECT_EQ(f.fraction, "924");
  EXPECT_EQ(f.offset_sign, '-');
  EXPECT_EQ(f.offset_minutes, -330);
  ASSERT_TRUE(lex_iso8601("2021-05-19", f));
  EXPECT_TRUE(f.hh.empty());
  EXPECT_EQ(f.offset_sign, 0);
  for (const char* bad : {"0000-01-01", "2021-02-29", "2021-05-19T24:00", "2021-05-19T23:59:61", "2021-05-19+24",
                          "2021-05-19 10:00+01:60", "2021-05-19 10:00:00.", "2021-05-19T", "2021-05-19 10:00 Z"})
    EXPECT_FALSE(lex_iso8601(bad, f)) << bad;
}

TEST(Timestamp, HttpDates) {
  EXPECT_EQ(format_iso8601_utc(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").value()), "1994-11-06T08:49:37.000Z");
  EXPECT_FALSE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"));
}

TEST(Base64, UrlSafeRoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\xff\xfe\x00\x01", 4)}) {
    EXPECT_EQ(base64url_decode(base64url_encode(s)).value(), s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  EXPECT_FALSE(base64url_decode("a+b"));
}

TEST(FakeClock, SleepingMovesBothTimeLines) {
  FakeClock clock;
  const auto utc = clock.now_utc();
  const auto steady = clock.now_steady();
  const Clock& as_clock = clock;
  as_clock.sleep_for(std::chrono::seconds(90));
  EXPECT_EQ(clock.now_utc() - utc, std::chrono::seconds(90));
  EXPECT_EQ(clock.now_steady() - steady, std::chrono::seconds(90));
}

}  // namespace
}  // namespace mdesync
