#include "parse/copy_text.hpp"

#include <gtest/gtest.h>

#include <random>

#include "copy_decode.hpp"

namespace mdesync::parse {
namespace {

using testing::decode_array_literal;
using testing::decode_copy_line;
using testing::Field;

std::string text(std::string_view s) {
  std::string out;
  append_text(out, s);
  return out;
}

// Encodes `s` as the only field of a line and reads it back as PostgreSQL would.
Field round_trip(std::string_view s) {
  const auto fields = decode_copy_line(text(s));
  EXPECT_EQ(fields.size(), 1u);
  return fields.empty() ? Field{} : fields[0];
}

TEST(CopyText, EscapesBackslashAndLineBreaksAndDelimiter) {
  EXPECT_EQ(text("a\tb"), "a\\tb");
  EXPECT_EQ(text("line1\nline2\r\n"), "line1\\nline2\\r\\n");
  EXPECT_EQ(text("C:\\Program Files\\x"), "C:\\\\Program Files\\\\x");
  EXPECT_EQ(text("\b\f\v"), "\\b\\f\\v");
  EXPECT_EQ(text("\\."), "\\\\.");  // can never become the end-of-data marker
  EXPECT_EQ(text("\\N"), "\\\\N");  // the text "\N" is not NULL
}

TEST(CopyText, PassesEveryOtherByteThrough) {
  for (int b = 1; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f' || c == '\v') continue;
    EXPECT_EQ(text(std::string(1, c)), std::string(1, c)) << "byte " << b;
  }
  EXPECT_EQ(text("intel® 日本語 😀 e\u0301 \"q\""), "intel® 日本語 😀 e\u0301 \"q\"");
}

TEST(CopyText, EmptyStringIsAnEmptyFieldNotNull) {
  EXPECT_EQ(text(""), "");
  EXPECT_EQ(round_trip(""), Field{""});
}

TEST(CopyText, NullMarker) {
  std::string out = "x\t";
  append_null(out);
  EXPECT_EQ(out, "x\t\\N");
  const auto fields = decode_copy_line(out);
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[1], std::nullopt);
}

TEST(CopyText, EveryByteRoundTrips) {
  std::string all;
  for (int b = 1; b < 256; ++b) {
    const std::string one(1, static_cast<char>(b));
    EXPECT_EQ(round_trip(one), Field{one}) << "byte " << b;
    all += one;
  }
  EXPECT_EQ(round_trip(all), Field{all});
}

TEST(CopyText, RandomStringsRoundTripAndStayOnOneField) {
  std::mt19937 rng(20240601);
  const std::string specials = "\\\t\n\r\b\f\v\"{},N. ";
  for (int i = 0; i < 5000; ++i) {
    std::string s(rng() % 40, ' ');
    for (auto& c : s)
      c = rng() % 2 ? specials[rng() % specials.size()] : static_cast<char>(1 + rng() % 255);
    const std::string encoded = text(s);
    ASSERT_EQ(encoded.find_first_of("\t\n\r"), std::string::npos) << "raw delimiter or line break";
    ASSERT_EQ(round_trip(s), Field{s});
  }
}

std::string array(std::vector<std::optional<std::string_view>> elements) {
  std::string out;
  append_text_array(out, elements);
  return out;
}

TEST(CopyTextArray, EmptyArrayIsBraces) { EXPECT_EQ(array({}), "{}"); }

TEST(CopyTextArray, QuotesEveryElementAndWritesNullUnquoted) {
  EXPECT_EQ(array({"a", "b"}), "{\"a\",\"b\"}");
  EXPECT_EQ(array({std::nullopt, "NULL", ""}), "{NULL,\"NULL\",\"\"}");
  EXPECT_EQ(array({"a,b", "{x}", " sp "}), "{\"a,b\",\"{x}\",\" sp \"}");
}

TEST(CopyTextArray, EscapesInsideTheLiteralThenForCopy) {
  // literal {"say \"hi\""} -> COPY {"say \\"hi\\""}
  EXPECT_EQ(array({"say \"hi\""}), "{\"say \\\\\"hi\\\\\"\"}");
  // C:\x -> literal "C:\\x" -> COPY "C:\\\\x"
  EXPECT_EQ(array({"C:\\x"}), "{\"C:\\\\\\\\x\"}");
  EXPECT_EQ(array({"tab\there"}), "{\"tab\\there\"}");
}

TEST(CopyTextArray, WriterMatchesTheSpanForm) {
  std::string out;
  TextArrayWriter w(out);
  w.element("a");
  w.null_element();
  w.element("b\"");
  w.close();
  EXPECT_EQ(out, array({"a", std::nullopt, "b\""}));
}

TEST(CopyTextArray, RandomArraysRoundTripThroughCopyAndArrayInput) {
  std::mt19937 rng(7);
  const std::string specials = "\\\"\t\n\r{},NUL ";
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> storage(rng() % 5);
    std::vector<std::optional<std::string_view>> elements;
    std::vector<Field> expected;
    for (auto& s : storage) {
      s.resize(rng() % 12);
      for (auto& c : s)
        c = rng() % 2 ? specials[rng() % specials.size()] : static_cast<char>(1 + rng() % 255);
      if (rng() % 6 == 0) {
        elements.emplace_back(std::nullopt);
        expected.emplace_back(std::nullopt);
      } else {
        elements.emplace_back(s);
        expected.emplace_back(s);
      }
    }
    const std::string encoded = array(elements);
    ASSERT_EQ(encoded.find_first_of("\t\n\r"), std::string::npos);
    const auto fields = decode_copy_line(encoded);
    ASSERT_EQ(fields.size(), 1u);
    const Field& field = fields[0];
    ASSERT_TRUE(field.has_value());
    const auto decoded = decode_array_literal(*field);
    ASSERT_TRUE(decoded.has_value()) << *field;
    ASSERT_EQ(*decoded, expected) << encoded;
  }
}

}  // namespace
}  // namespace mdesync::parse
