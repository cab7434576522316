#include "auth/flat_json.hpp"

#include <gtest/gtest.h>

namespace mdesync::auth {
namespace {

TEST(FlatJson, ReadsATokenResponse) {
  const auto j = FlatJson::parse(
      R"({"token_type":"Bearer","expires_in":3599,"ext_expires_in":"3599","access_token":"eyJ0.eyJ1.sig"})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->string("token_type"), "Bearer");
  EXPECT_EQ(j->string("access_token"), "eyJ0.eyJ1.sig");
  EXPECT_EQ(j->integer("expires_in"), 3599);
  EXPECT_EQ(j->integer("ext_expires_in"), 3599);  // strings of digits count as integers
  EXPECT_EQ(j->string("expires_in"), std::nullopt);  // but numbers are not strings
  EXPECT_EQ(j->string("missing"), std::nullopt);
  EXPECT_FALSE(j->has("missing"));
}

TEST(FlatJson, ReadsAnAadErrorWithNestedValuesAndEscapes) {
  const auto j = FlatJson::parse(
      "{\r\n  \"error\": \"invalid_client\",\n"
      "  \"error_description\": \"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: 1\\u00e9\\ud83d\\ude00 \\\"q\\\" \\/\",\n"
      "  \"error_codes\": [7000215, 50012],\n"
      "  \"timestamp\": \"2025-01-01 00:00:00Z\",\n"
      "  \"nested\": {\"a\": [1, {\"b\": null}], \"c\": true},\n"
      "  \"ratio\": -1.5e3\n}");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->string("error"), "invalid_client");
  EXPECT_EQ(j->string("error_description"),
            "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1\xc3\xa9\xf0\x9f\x98\x80 \"q\" /");
  EXPECT_EQ(j->integers("error_codes"), (std::vector<std::int64_t>{7000215, 50012}));
  EXPECT_EQ(j->integer("ratio"), std::nullopt);
  EXPECT_TRUE(j->has("nested"));
  EXPECT_TRUE(j->integers("nested").empty());
}

TEST(FlatJson, EmptyObject) {
  const auto j = FlatJson::parse(" {} ");
  ASSERT_TRUE(j);
  EXPECT_FALSE(j->has("x"));
}

TEST(FlatJson, RefusesWhatIsNotOneObject) {
  for (const char* bad : {"", "[]", "\"x\"", "{", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":1} x",
                          "{\"a\":01}", "{\"a\":1.}", "{\"a\":tru}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud800\"}",
                          "{\"a\":\"line\nbreak\"}", "{\"a\":[1,2}", "<html>503</html>", "{\"a\":\"unterminated}"}) {
    EXPECT_FALSE(FlatJson::parse(bad)) << bad;
  }
}

TEST(FlatJson, RefusesDeepNesting) {
  std::string deep = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_FALSE(FlatJson::parse(deep));
}

TEST(FlatJson, NegativeOrFractionalExpiryIsNotAnInteger) {
  const auto j = FlatJson::parse(R"({"a":"-5","b":"12x","c":3.0,"d":-7,"e":""})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->integer("a"), std::nullopt);
  EXPECT_EQ(j->integer("b"), std::nullopt);
  EXPECT_EQ(j->integer("c"), std::nullopt);
  EXPECT_EQ(j->integer("d"), -7);
  EXPECT_EQ(j->integer("e"), std::nullopt);
}

TEST(FlatJson, TheFirstOfRepeatedMembersCounts) {
  const auto j = FlatJson::parse(R"({"access_token":"first","access_token":"second","n":1,"n":"2"})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->string("access_token"), "first");
  EXPECT_EQ(j->integer("n"), 1);
}

TEST(FlatJson, StringsAreSimdjsonsUnescapingBytesIncluded) {
  const auto j = FlatJson::parse(R"({"a":"x\u0000y","b":"\u007f"})");
  ASSERT_TRUE(j);
  EXPECT_EQ(j->string("a"), std::string("x\0y", 3));
  EXPECT_EQ(j->string("b"), "\x7f");
}

// Refused as a whole by simdjson. The hand-written lexer it replaced let the
// first four through: JSON is UTF-8 (RFC 8259 8.1), and a number simdjson
// cannot represent is one no token endpoint sends.
TEST(FlatJson, RefusesInvalidUtf8AndUnrepresentableNumbers) {
  for (const char* bad : {"{\"a\":\"\xff\"}", "{\"a\":\"\xc3\"}", "{\"a\":1e400}",
                          "{\"a\":123456789012345678901234567890}", "{\"a\":\"\\udc00\"}", "{\"a\":1}{}"}) {
    EXPECT_FALSE(FlatJson::parse(bad)) << bad;
  }
  const auto big = FlatJson::parse(R"({"a":18446744073709551615,"b":9223372036854775807})");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->integer("a"), std::nullopt);  // past int64
  EXPECT_EQ(big->integer("b"), 9223372036854775807);
}

TEST(FlatJson, NestingUpToTheLimitIsTolerated) {
  const auto depth = [](std::size_t arrays) {
    return "{\"a\":" + std::string(arrays, '[') + std::string(arrays, ']') + ",\"b\":\"kept\"}";
  };
  const auto j = FlatJson::parse(depth(FlatJson::max_depth - 1));  // the object itself is one level
  ASSERT_TRUE(j);
  EXPECT_EQ(j->string("b"), "kept");
  EXPECT_FALSE(FlatJson::parse(depth(FlatJson::max_depth)));
}

}  // namespace
}  // namespace mdesync::auth
