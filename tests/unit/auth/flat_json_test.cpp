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

}  // namespace
}  // namespace mdesync::auth
