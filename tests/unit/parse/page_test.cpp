#include "parse/page.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fixture.hpp"

namespace mdesync::parse {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::read_fixture;
using testing::split_lines;

struct Parsed {
  PageResult result;
  std::string copy;
};

Parsed parse(model::Dataset ds, const std::string& body, std::string copy = {}) {
  RecordEncoder encoder(ds, "contoso");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  Parsed p;
  p.copy = std::move(copy);
  p.result = parse_page(encoder, parser, padded, p.copy);
  return p;
}

// The PageError message for `body`, or a test failure when none is thrown.
std::string page_error(const std::string& body) {
  std::string copy = "kept\n";
  try {
    parse(model::Dataset::cpe, body, copy);
  } catch (const PageError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data);
    return e.what();
  }
  ADD_FAILURE() << "no PageError for: " << body;
  return {};
}

TEST(Page, RecordsRejectionsAndNextLinkFromFixture) {
  const auto p = parse(model::Dataset::cpe, read_fixture("page_cpe_next.json"));
  EXPECT_EQ(p.copy, read_fixture("page_cpe_next.expected"));
  EXPECT_EQ(p.result.rows, 2u);
  std::string rejections;
  for (const auto& r : p.result.rejected) rejections += std::to_string(r.index) + "\t" + r.reason + "\n";
  EXPECT_EQ(rejections, read_fixture("page_cpe_next.rejections"));
  ASSERT_TRUE(p.result.next_link.has_value());
  EXPECT_EQ(*p.result.next_link,
            "https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pagesize=5&$skiptoken=abc=");
  EXPECT_EQ(p.result.context,
            "https://api.securitycenter.microsoft.com/api/$metadata#Collection(contoso.windowsDefenderATP.api.AssetSoftware)");
}

TEST(Page, LastPageHasNoNextLink) {
  const auto p = parse(model::Dataset::noncpe, read_fixture("page_noncpe_last.json"));
  EXPECT_EQ(p.copy, read_fixture("page_noncpe_last.expected"));
  EXPECT_EQ(p.result.rows, 2u);
  EXPECT_TRUE(p.result.rejected.empty());
  EXPECT_FALSE(p.result.next_link.has_value());
  EXPECT_THAT(p.result.context, HasSubstr("AssetNonCpeSoftware"));
}

TEST(Page, NullNextLinkMeansLastPage) {
  const auto p = parse(model::Dataset::cpe, R"({"@odata.nextLink":null,"value":[]})");
  EXPECT_FALSE(p.result.next_link.has_value());
  EXPECT_EQ(p.result.rows, 0u);
  EXPECT_EQ(p.copy, "");
}

TEST(Page, AppendsToExistingOutput) {
  const auto p = parse(model::Dataset::noncpe, R"({"value":[{"deviceId":"d","softwareName":"s"}]})", "before\n");
  EXPECT_EQ(p.copy, "before\ncontoso\td\t\\N\t\\N\t\\N\t\\N\t\ts\t\t\\N\t\\N\n");
}

TEST(Page, SameRowsAsTheExportFileForTheSameRecords) {
  // The fixture records wrapped in a page give the same COPY text as the NDJSON path.
  std::string body = R"({"@odata.context":"c","value":[)";
  const auto lines = split_lines(read_fixture("cpe_records.ndjson"));
  for (std::size_t i = 0; i < lines.size(); ++i) body += (i ? ",\n" : "") + lines[i];
  body += "]}";
  const auto p = parse(model::Dataset::cpe, body);
  EXPECT_EQ(p.copy, read_fixture("cpe_records.expected"));
  EXPECT_EQ(p.result.rows, lines.size());
}

TEST(Page, NotJsonNamesTheProblem) {
  EXPECT_EQ(page_error(read_fixture("page_not_json.html")),
            R"(page is not a JSON object: starts with "<html><body><h1>502 Bad Gateway</h1></body></html>\n")");
  EXPECT_EQ(page_error(""), "page is not JSON: Empty: no JSON found");
  EXPECT_THAT(page_error("{\"value\":[1,2"), StartsWith("page is not JSON: "));
}

TEST(Page, WithoutValueArrayIsAnError) {
  EXPECT_EQ(page_error(read_fixture("page_no_value.json")), "page has no \"value\" array");
  EXPECT_EQ(page_error(R"({"value":null})"), "page \"value\" is not an array: The JSON element does not have the requested type. at byte 9");
  EXPECT_THAT(page_error(R"({"value":{"deviceId":"d"}})"), StartsWith("page \"value\" is not an array"));
  EXPECT_THAT(page_error(R"([{"deviceId":"d"}])"), StartsWith("page is not a JSON object"));
}

TEST(Page, TruncatedBodyIsAnErrorAndLeavesOutputAsItWas) {
  std::string copy = "kept\n";
  RecordEncoder encoder(model::Dataset::noncpe, "contoso");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(read_fixture("page_truncated.json"));
  try {
    parse_page(encoder, parser, padded, copy);
    ADD_FAILURE() << "truncated page parsed";
  } catch (const PageError& e) {
    EXPECT_THAT(std::string(e.what()), StartsWith("page is not"));
  }
  EXPECT_EQ(copy, "kept\n");  // the two complete records before the cut are not kept
}

TEST(Page, BrokenRecordStructureIsAPageErrorWithItsIndexAndOffset) {
  const std::string body = R"({"value":[{"deviceId":"a","softwareName":"s"},{"deviceId":"b","softwareName":}]})";
  const auto msg = page_error(body);
  EXPECT_THAT(msg, StartsWith("page is not valid JSON"));
  EXPECT_THAT(msg, HasSubstr("at byte "));
}

TEST(Page, TrailingContentIsAnError) {
  EXPECT_EQ(page_error(R"({"value":[]} {"value":[]})"), "trailing content after the page object at byte 13");
}

TEST(Page, InvalidUtf8AnywhereFailsThePage) {
  EXPECT_THAT(page_error("{\"value\":[{\"deviceId\":\"\xff\",\"softwareName\":\"s\"}]}"),
              StartsWith("page is not JSON: The input is not valid UTF-8"));
}

TEST(Page, NextLinkThatIsNotAStringIsAnError) {
  EXPECT_THAT(page_error(R"({"value":[],"@odata.nextLink":42})"), StartsWith("page \"@odata.nextLink\" is not a string"));
}

TEST(Page, RejectedRecordsKeepTheirIndexAndLaterRecordsStillParse) {
  const auto p = parse(model::Dataset::noncpe,
                       R"({"value":[5,{"deviceId":"a"},{"deviceId":"b","softwareName":"s","rbacGroupId":{"x":1.5e}},)"
                       R"({"deviceId":"c","softwareName":"s"},[1,{"a":2}],{"deviceId":"e","softwareName":"s"}]})");
  EXPECT_EQ(p.result.rows, 2u);
  ASSERT_EQ(p.result.rejected.size(), 4u);
  EXPECT_EQ(p.result.rejected[0].index, 0u);
  EXPECT_EQ(p.result.rejected[0].reason, "record is a number, not an object");
  EXPECT_EQ(p.result.rejected[1].index, 1u);
  EXPECT_EQ(p.result.rejected[1].reason, "missing softwareName");
  EXPECT_EQ(p.result.rejected[2].index, 2u);
  EXPECT_EQ(p.result.rejected[2].reason, "rbacGroupId: invalid number 1.5e");
  EXPECT_EQ(p.result.rejected[3].index, 4u);
  EXPECT_THAT(p.copy, HasSubstr("contoso\tc\t"));
  EXPECT_THAT(p.copy, HasSubstr("contoso\te\t"));
}

TEST(ApiErrorBody, ParsesCodeMessageTarget) {
  const auto e = parse_api_error(read_fixture("api_error.json"));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "Forbidden");
  EXPECT_THAT(e->message, StartsWith("The application does not have any of the required application permissions"));
  EXPECT_EQ(e->target, "2f3a3ce1-3ad2-4c3b-b4c4-7d1e2f3a4b5c");
}

TEST(ApiErrorBody, OAuthShapeAndPartialBodies) {
  auto e = parse_api_error(R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret."})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "invalid_client");
  EXPECT_EQ(e->message, "AADSTS7000215: Invalid client secret.");
  e = parse_api_error(R"({"error":{"code":"TooManyRequests","message":null}})");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->code, "TooManyRequests");
  EXPECT_EQ(e->message, "");
  EXPECT_EQ(e->target, "");
}

TEST(ApiErrorBody, NoErrorMeansNullopt) {
  EXPECT_FALSE(parse_api_error("").has_value());
  EXPECT_FALSE(parse_api_error("<html>502</html>").has_value());
  EXPECT_FALSE(parse_api_error(R"({"value":[]})").has_value());
  EXPECT_FALSE(parse_api_error(R"({"error":42})").has_value());
  EXPECT_FALSE(parse_api_error(R"(["error"])").has_value());
}

TEST(ExportResponseBody, ParsesFilesAndGeneratedTime) {
  const auto r = parse_export_response(read_fixture("export_response.json"));
  ASSERT_EQ(r.files.size(), 2u);
  EXPECT_THAT(r.files[0], StartsWith("https://tvmexportstrstgeus.blob.core.windows.net/tvm-export/2021-01-11/"));
  EXPECT_THAT(r.files[0], HasSubstr("part-00393-ab3f.json.gz?sv="));
  EXPECT_THAT(r.files[1], HasSubstr("_RbacGroupId=2/part-00394"));
  EXPECT_EQ(r.generated_time, "2021-01-11T11:01:00Z");
}

TEST(ExportResponseBody, EmptyFileListIsValid) {
  const auto r = parse_export_response(R"({"exportFiles":[],"generatedTime":"2022-05-30T11:01:00Z"})");
  EXPECT_TRUE(r.files.empty());
}

TEST(ExportResponseBody, MalformedBodiesThrow) {
  const std::pair<const char*, const char*> bad[] = {
      {"not json", "export response is not a JSON object: starts with \"not json\""},
      {"{\"exportFiles\":[", "export response is not JSON: "},
      {R"({"generatedTime":"2021-01-11T11:01:00Z"})", "export response has no \"exportFiles\" array"},
      {R"({"exportFiles":"https://x","generatedTime":"2021-01-11T11:01:00Z"})", "export response \"exportFiles\" is not an array"},
      {R"({"exportFiles":["https://x",null],"generatedTime":"2021-01-11T11:01:00Z"})", "export response \"exportFiles\" holds a non-string"},
      {R"({"exportFiles":[]})", "export response has no \"generatedTime\""},
      {R"({"exportFiles":[],"generatedTime":"soon"})", "export response \"generatedTime\" is not a timestamp: \"soon\""},
      {R"({"exportFiles":[],"generatedTime":5})", "export response \"generatedTime\" is not a string"},
  };
  for (const auto& [body, message] : bad) {
    try {
      parse_export_response(body);
      ADD_FAILURE() << "no error for " << body;
    } catch (const PageError& e) {
      EXPECT_THAT(std::string(e.what()), StartsWith(message)) << body;
    }
  }
}

}  // namespace
}  // namespace mdesync::parse
