// The bad input corpus (tests/fixtures/bad_input) through the parser and the COPY
// encoder, on both paths: a JSON page and an export file's NDJSON. Each record sits
// between two good ones; it is stored exactly or rejected with a reason that names
// the field and where, and the neighbours come out exactly as they went in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "fixtures/bad_input/corpus.hpp"
#include "copy_decode.hpp"
#include "parse/ndjson.hpp"
#include "parse/page.hpp"

namespace mdesync::parse {
namespace {

using ::testing::HasSubstr;
using model::ColumnType;
using model::Dataset;
using mdesync::testing::bad_input::Case;
namespace corpus = mdesync::testing::bad_input;

std::vector<std::string> lines_of(const std::string& copy) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t nl; (nl = copy.find('\n', start)) != std::string::npos; start = nl + 1)
    lines.push_back(copy.substr(start, nl - start));
  EXPECT_EQ(start, copy.size()) << "COPY text must end with a newline";
  return lines;
}

// One COPY line against a stored case's expectations. Timestamps are left to the
// integration test: only PostgreSQL can say how it reads them back.
void expect_line(Dataset ds, const std::string& line, const Case& c) {
  const auto fields = testing::decode_copy_line(line);
  const auto& columns = model::spec(ds).columns;
  ASSERT_EQ(fields.size(), columns.size() + 2) << c.name << ": " << line.substr(0, 300);
  const auto extra = c.expect.find("extra_fields");
  EXPECT_EQ(fields.back(), extra == c.expect.end() ? testing::Field{} : extra->second) << c.name << " extra_fields";
  EXPECT_EQ(fields[0], "contoso") << c.name;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::string col(columns[i].sql_name);
    const auto want = c.expect.at(col);
    if (columns[i].type == ColumnType::timestamptz) {
      EXPECT_EQ(fields[i + 1].has_value(), want.has_value()) << c.name << " " << col;
      continue;
    }
    testing::Field got = fields[i + 1];
    if (columns[i].type == ColumnType::text_array && got) {
      const auto elements = testing::decode_array_literal(*got);
      ASSERT_TRUE(elements) << c.name << " " << col << ": not an array literal: " << *got;
      got = corpus::array_value(*elements);
    }
    EXPECT_EQ(got, want) << c.name << " " << col;
  }
}

class BadInput : public ::testing::TestWithParam<Dataset> {};

TEST_P(BadInput, EachRecordOfAJsonPageIsStoredExactlyOrRejectedByNameWithoutTouchingItsNeighbours) {
  const Dataset ds = GetParam();
  const Case before = corpus::plain(ds, "before"), after = corpus::plain(ds, "after");
  RecordEncoder encoder(ds, "contoso");
  simdjson::ondemand::parser parser;
  std::size_t tried = 0, stored = 0, not_json = 0;
  for (const Case& c : corpus::corpus(ds)) {
    ++tried;
    stored += c.stored;
    not_json += c.breaks_page;
    const std::string body = R"({"@odata.context":"x","value":[)" + before.record + "," + c.record + "," +
                             after.record + R"(],"@odata.nextLink":"https://next"})";
    const simdjson::padded_string padded(body);
    std::string copy = "untouched\n";
    if (c.breaks_page) {
      // Not JSON: the whole page is refused and nothing of it reaches COPY.
      EXPECT_THROW(parse_page(encoder, parser, padded, copy), PageError) << c.name;
      EXPECT_EQ(copy, "untouched\n") << c.name;
      continue;
    }
    PageResult page;
    ASSERT_NO_THROW(page = parse_page(encoder, parser, padded, copy)) << c.name;
    EXPECT_EQ(page.next_link, "https://next") << c.name;
    const auto lines = lines_of(copy);
    ASSERT_EQ(lines.size(), 1 + page.rows) << c.name;
    EXPECT_EQ(lines[0], "untouched");
    if (c.stored) {
      ASSERT_EQ(page.rows, 3u) << c.name << ": " << (page.rejected.empty() ? "" : page.rejected[0].reason);
      EXPECT_TRUE(page.rejected.empty()) << c.name;
      expect_line(ds, lines[2], c);
    } else {
      ASSERT_EQ(page.rows, 2u) << c.name;
      ASSERT_EQ(page.rejected.size(), 1u) << c.name;
      EXPECT_EQ(page.rejected[0].index, 1u) << c.name;
      EXPECT_THAT(page.rejected[0].reason, HasSubstr(c.reason)) << c.name;
    }
    expect_line(ds, lines[1], before);
    expect_line(ds, lines.back(), after);
  }
  EXPECT_GT(tried, 100u);
  std::printf("bad input corpus, %s: %zu records: %zu stored exactly, %zu rejected (%zu of them not JSON text)\n",
              std::string(model::spec(ds).name).c_str(), tried, stored, tried - stored, not_json);
}

TEST_P(BadInput, EachLineOfAnExportFileIsStoredExactlyOrRejectedWithItsFileAndLine) {
  const Dataset ds = GetParam();
  const Case before = corpus::plain(ds, "before"), after = corpus::plain(ds, "after");
  RecordEncoder encoder(ds, "contoso");
  for (const Case& c : corpus::corpus(ds)) {
    std::string copy;
    NdjsonReader reader(encoder, "part-00001.json.gz", copy);
    const std::string text = before.record + "\n" + c.record + "\r\n" + after.record + "\n";
    // Pieces of 7 bytes: every record is split across feed() calls, many mid-escape.
    for (std::size_t at = 0; at < text.size(); at += 7) reader.feed(std::string_view(text).substr(at, 7));
    reader.finish();
    const auto lines = lines_of(copy);
    ASSERT_EQ(lines.size(), reader.rows()) << c.name;
    if (c.stored) {
      ASSERT_EQ(reader.rows(), 3u) << c.name << ": "
                                   << (reader.rejections().empty() ? "" : reader.rejections()[0].reason);
      expect_line(ds, lines[1], c);
    } else {
      ASSERT_EQ(reader.rows(), 2u) << c.name;
      ASSERT_EQ(reader.rejected(), 1u) << c.name;
      ASSERT_EQ(reader.rejections().size(), 1u) << c.name;
      EXPECT_EQ(reader.rejections()[0].index, 2u) << c.name;
      EXPECT_TRUE(reader.rejections()[0].reason.starts_with("part-00001.json.gz line 2: ")) << c.name;
      EXPECT_THAT(reader.rejections()[0].reason, HasSubstr(c.reason)) << c.name;
    }
    expect_line(ds, lines.front(), before);
    expect_line(ds, lines.back(), after);
  }
}

TEST_P(BadInput, DuplicatedRecordsInAPageAreAllHandedOnInOrderForTheStoreToKeepTheLast) {
  // The store keeps the last of a key (DISTINCT ON ... ORDER BY ord DESC); the
  // parser's part is to drop none and keep the order.
  const Dataset ds = GetParam();
  const Case a = corpus::plain(ds, "dup");
  std::string second = a.record;
  second.replace(second.find("host.contoso.com"), 16, "second.contoso");
  const std::string body = R"({"value":[)" + a.record + "," + a.record + "," + second + "]}";
  RecordEncoder encoder(ds, "contoso");
  simdjson::ondemand::parser parser;
  std::string copy;
  const auto page = parse_page(encoder, parser, simdjson::padded_string(body), copy);
  ASSERT_EQ(page.rows, 3u);
  const auto lines = lines_of(copy);
  EXPECT_EQ(lines[0], lines[1]);
  EXPECT_NE(lines[2].find("second.contoso"), std::string::npos) << lines[2];
}

TEST(BadInputPage, EmptyPagesAndPagesWithoutValueOrWithALoopingLinkAreTold) {
  RecordEncoder encoder(Dataset::cpe, "contoso");
  simdjson::ondemand::parser parser;
  std::string copy;
  auto page = parse_page(encoder, parser, simdjson::padded_string(std::string(R"({"value":[]})")), copy);
  EXPECT_EQ(page.rows, 0u);
  EXPECT_FALSE(page.next_link);
  page = parse_page(encoder, parser, simdjson::padded_string(std::string(R"({"value":[],"@odata.nextLink":"u"})")),
                    copy);
  EXPECT_EQ(page.next_link, "u");  // an empty page in the middle of a walk is no reason to stop
  EXPECT_TRUE(copy.empty());
  for (const std::string body : {R"({"@odata.context":"x","@odata.nextLink":"u"})", "{}", "", "[]",
                                 R"({"value":null})", R"({"value":{}})", R"({"value":[],"value":[]})",
                                 R"({"value":[]} {"value":[]})", R"({"value":[],"@odata.nextLink":7})"}) {
    EXPECT_THROW(parse_page(encoder, parser, simdjson::padded_string(body), copy), PageError) << body;
    EXPECT_TRUE(copy.empty()) << body;
  }
}

TEST(BadInputFile, AnEmptyFileAndBlankLinesYieldNothingAndNoRejection) {
  RecordEncoder encoder(Dataset::noncpe, "contoso");
  for (const std::string text : {"", "\n", "\r\n\r\n", "   \n\t\n", "\xEF\xBB\xBF\n"}) {
    std::string copy;
    NdjsonReader reader(encoder, "f", copy);
    reader.feed(text);
    reader.finish();
    EXPECT_EQ(reader.rows(), 0u);
    EXPECT_EQ(reader.rejected(), 0u);
    EXPECT_TRUE(copy.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(BothDatasets, BadInput, ::testing::Values(Dataset::cpe, Dataset::noncpe),
                         [](const auto& info) { return std::string(model::spec(info.param).name); });

}  // namespace
}  // namespace mdesync::parse
