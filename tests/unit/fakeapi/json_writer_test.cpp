// JSON output: escaping and structure, checked by parsing it back with simdjson.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "json_writer.hpp"

namespace mdesync::fakeapi {
namespace {

std::string parse_string(const std::string& json) {
  simdjson::dom::parser parser;
  std::string_view v;
  const auto err = parser.parse(json).get(v);
  EXPECT_EQ(err, simdjson::SUCCESS) << json;
  return std::string(v);
}

TEST(JsonWriter, EveryControlCharacterRoundTrips) {
  std::string s;
  for (int c = 0; c < 0x20; ++c) s += static_cast<char>(c);
  s += "\"\\/ plain \x7f";
  std::string out;
  json::append_string(out, s);
  EXPECT_EQ(parse_string(out), s);
  for (char c : out) ASSERT_GE(static_cast<unsigned char>(c), 0x20) << "raw control character in output";
}

TEST(JsonWriter, ControlCharactersUseUnicodeEscapes) {
  std::string out;
  json::append_string(out, std::string("a\tb\nc\x01", 6));
  EXPECT_EQ(out, "\"a\\u0009b\\u000ac\\u0001\"");
  out.clear();
  json::append_string(out, std::string("\0", 1));
  EXPECT_EQ(out, "\"\\u0000\"");
}

TEST(JsonWriter, QuotesAndBackslashesAreEscaped) {
  std::string out;
  json::append_string(out, "C:\\Program Files\\\"x\"");
  EXPECT_EQ(out, "\"C:\\\\Program Files\\\\\\\"x\\\"\"");
  EXPECT_EQ(parse_string(out), "C:\\Program Files\\\"x\"");
}

TEST(JsonWriter, Utf8PassesThroughUnchanged) {
  const std::string s = "Zürich 東京 intel®_software 日本語ツール 😀";
  std::string out;
  json::append_string(out, s);
  EXPECT_EQ(out, "\"" + s + "\"");
  EXPECT_EQ(parse_string(out), s);
}

TEST(JsonWriter, IntegersAtTheLimits) {
  std::string out;
  json::append_int(out, INT64_MIN);
  out += ',';
  json::append_uint(out, UINT64_MAX);
  EXPECT_EQ(out, "-9223372036854775808,18446744073709551615");
}

TEST(JsonWriter, StructuredWriterPlacesCommas) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.field("a", 1).field("b", "two");
  w.key("c").begin_array().value(1).null().value(true).begin_object().end_object().begin_array().end_array().end_array();
  w.key("d").begin_object().field("e", -5).end_object();
  w.key("raw").raw("[1,2]");
  w.end_object();
  EXPECT_EQ(out, R"({"a":1,"b":"two","c":[1,null,true,{},[]],"d":{"e":-5},"raw":[1,2]})");
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  EXPECT_EQ(parser.parse(out).get(e), simdjson::SUCCESS);
}

}  // namespace
}  // namespace mdesync::fakeapi
