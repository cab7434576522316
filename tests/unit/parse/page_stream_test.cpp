// PageStream against parse_page: the same bytes, cut into chunks of every size,
// must give the same COPY text, rows, rejections, next link and context, and a
// body parse_page refuses must be refused.
#include "parse/page_stream.hpp"

#include "copy_decode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <ostream>

#include "fixture.hpp"

namespace mdesync::parse {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using model::Dataset;
using testing::read_fixture;
using testing::split_lines;

struct Outcome {
  std::string copy;
  std::size_t rows = 0;
  std::string rejections;  // "index\treason\n" each
  std::optional<std::string> next_link;
  std::string context;
  std::string error;  // the PageError; empty when the page parsed
  bool operator==(const Outcome&) const = default;
};

void PrintTo(const Outcome& o, std::ostream* os) {
  *os << "rows=" << o.rows << " next_link=" << o.next_link.value_or("(none)") << " context=" << o.context
      << " error=" << o.error << "\nrejections:\n" << o.rejections << "copy:\n" << o.copy.substr(0, 2000);
}

void take(Outcome& o, const PageResult& r) {
  o.rows = r.rows;
  for (const auto& x : r.rejected) o.rejections += std::to_string(x.index) + "\t" + x.reason + "\n";
  o.next_link = r.next_link;
  o.context = r.context;
}

Outcome via_parse_page(Dataset ds, const std::string& body) {
  RecordEncoder encoder(ds, "contoso");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  Outcome o;
  try {
    take(o, parse_page(encoder, parser, padded, o.copy));
  } catch (const PageError& e) {
    o = Outcome{};
    o.error = e.what();
  }
  return o;
}

constexpr std::size_t whole = 0;

// Feeds `body` in `chunk`-byte pieces (whole: one piece), flushing the COPY text
// the way the caller does whenever it passes `flush_at` bytes.
Outcome via_stream(Dataset ds, std::string_view body, std::size_t chunk,
                   std::size_t flush_at = std::string::npos) {
  RecordEncoder encoder(ds, "contoso");
  Outcome o;
  std::string copy;
  PageStream stream(encoder, copy);
  if (chunk == whole) chunk = std::max<std::size_t>(body.size(), 1);
  try {
    for (std::size_t at = 0; at < body.size(); at += chunk) {
      stream.feed(body.substr(at, chunk));
      if (copy.size() > flush_at) {
        o.copy += copy;
        copy.clear();
      }
    }
    const PageResult r = stream.finish();
    o.copy += copy;
    take(o, r);
  } catch (const PageError& e) {
    EXPECT_EQ(e.kind(), ErrorKind::data);
    o = Outcome{};
    o.error = e.what();
  }
  return o;
}

constexpr std::size_t chunk_sizes[] = {1, 2, 3, 7, 64, 4096, whole};

// The differential: every chunk size gives parse_page's result; a refused page is
// refused (the wording may differ: the stream says so before the end).
void expect_same_as_parse_page(Dataset ds, const std::string& body) {
  const Outcome want = via_parse_page(ds, body);
  for (const std::size_t chunk : chunk_sizes) {
    const Outcome got = via_stream(ds, body, chunk);
    if (want.error.empty()) {
      EXPECT_EQ(got, want) << "chunk " << chunk << " body " << body.substr(0, 500);
    } else {
      EXPECT_NE(got.error, "") << "chunk " << chunk << " parse_page said: " << want.error << "\nbody "
                               << body.substr(0, 500);
    }
  }
}

// The PageError for `body` fed in `chunk`-byte pieces, or a test failure.
std::string stream_error(const std::string& body, std::size_t chunk = whole) {
  const Outcome o = via_stream(Dataset::cpe, body, chunk);
  EXPECT_NE(o.error, "") << "no PageError for: " << body.substr(0, 200);
  return o.error;
}

// Whitespace around every token outside strings: ` \n\t\r` after `{[,:` and before `}],:`.
std::string spread(std::string_view json) {
  constexpr std::string_view ws = " \n\t\r ";
  std::string out(ws);
  bool in_string = false, escaped = false;
  for (const char c : json) {
    if (in_string) {
      out.push_back(c);
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '}' || c == ']' || c == ',' || c == ':') out.append(ws);
    out.push_back(c);
    if (c == '{' || c == '[' || c == ',' || c == ':') out.append(ws);
    if (c == '"') in_string = true;
  }
  return out.append(ws);
}

std::string join(const std::vector<std::string>& elements) {
  std::string s;
  for (std::size_t i = 0; i < elements.size(); ++i) s += (i ? "," : "") + elements[i];
  return s;
}

// The same records in every envelope we can think of.
std::vector<std::string> layouts(const std::vector<std::string>& elements) {
  const std::string v = "[" + join(elements) + "]";
  std::vector<std::string> bodies = {
      R"j({"@odata.context":"https://api/$metadata#Collection(x)","value":)j" + v +
          R"(,"@odata.nextLink":"https://api/next?$skiptoken=a\u003d"})",
      R"({"value":)" + v + R"(,"@odata.context":"c"})",
      R"({"@odata.nextLink":"n","@odata.context":"c","value":)" + v + "}",
      R"({"value":)" + v + R"(,"@odata.nextLink":"first","@odata.nextLink":null})",
      // Unknown keys whose values look like pages, with brackets and quotes in strings.
      R"({"x":{"value":[1,{"a":"]}\"["}],"s":"\"value\":["},"@odata.count":12,"value":)" + v +
          R"(,"y":[[],{},"\\",[{"z":"}"}]],"@odata.nextLink":"n\"q","z":null})",
      // A key spelled with escapes is still `value`; a string *value* "value" is not a key.
      R"({"note":"value","valu\u0065":)" + v + R"(,"other":"value"})",
  };
  const std::size_t n = bodies.size();
  for (std::size_t i = 0; i < n; ++i) bodies.push_back(spread(bodies[i]));
  return bodies;
}

// Records whose strings hold everything the scanner must not mistake for structure.
const std::vector<std::string> tricky_cpe = {
    R"({"deviceId":"br{ace}s[and]brackets","softwareName":"q\"uo\"te","deviceName":"ends with a backslash \\","osPlatform":"\\\"","softwareVendor":"\u0022\u005c\u007b\u005d","softwareVersion":"日本 \ud83d\ude00","diskPaths":["a,b","]","[","}","{"],"registryPaths":[],"extra":[[1,[2,[3]]],{"k":["}\","]}]})",
    R"({"deviceId":"d2","softwareName":"\\\\","diskPaths":["\\\"],[{"],"numberOfWeaknesses":3})",
    R"({"deviceId":"d3","softwareName":"x","nested":{"a":{"b":{"c":[{"d":"\"}]"}]}}},"endOfSupportDate":"2021-05-11T00:00:00+00:00"})",
    R"({"deviceId":"d4","softwareName":"tab\there","rbacGroupName":"\\","deviceName":"\"\\\"\\\\\""})",
    R"({"deviceId":"d5"})",
    R"({"deviceId":"d6","softwareName":"s","numberOfWeaknesses":"x\",\"numberOfWeaknesses\":1"})",
    "null",
    "5",
    R"("a string, with a comma")",
    R"([1,[2,"]"],{"deviceId":"d"}])",
    "{}",
    R"({"deviceId":"d7","softwareName":"s","diskPaths":[],"registryPaths":[[]]})",
    R"({"deviceId":"d8","softwareName":"last\\"})",
};

TEST(PageStream, SameAsParsePageForEveryPageFixture) {
  expect_same_as_parse_page(Dataset::cpe, read_fixture("page_cpe_next.json"));
  expect_same_as_parse_page(Dataset::noncpe, read_fixture("page_noncpe_last.json"));
  for (const char* bad : {"page_no_value.json", "page_truncated.json", "page_not_json.html"})
    expect_same_as_parse_page(Dataset::cpe, read_fixture(bad));
}

TEST(PageStream, FixturePagesGiveTheExpectedFilesAtEveryChunkSize) {
  for (const std::size_t chunk : chunk_sizes) {
    const auto cpe = via_stream(Dataset::cpe, read_fixture("page_cpe_next.json"), chunk);
    EXPECT_EQ(cpe.copy, read_fixture("page_cpe_next.expected")) << chunk;
    EXPECT_EQ(cpe.rejections, read_fixture("page_cpe_next.rejections")) << chunk;
    EXPECT_EQ(cpe.next_link,
              "https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pagesize=5&$skiptoken=abc=");
    const auto noncpe = via_stream(Dataset::noncpe, read_fixture("page_noncpe_last.json"), chunk);
    EXPECT_EQ(noncpe.copy, read_fixture("page_noncpe_last.expected")) << chunk;
    EXPECT_FALSE(noncpe.next_link.has_value());
    EXPECT_THAT(noncpe.context, HasSubstr("AssetNonCpeSoftware"));
  }
}

TEST(PageStream, SameAsParsePageForRecordFixturesInEveryLayout) {
  const std::pair<Dataset, const char*> files[] = {{Dataset::cpe, "cpe_records.ndjson"},
                                                   {Dataset::cpe, "cpe_rejects.ndjson"},
                                                   {Dataset::noncpe, "noncpe_records.ndjson"},
                                                   {Dataset::noncpe, "noncpe_rejects.ndjson"}};
  for (const auto& [ds, file] : files) {
    std::vector<std::string> page_worthy;  // the lines a page may hold without failing as a whole
    for (const auto& line : split_lines(read_fixture(file))) {
      const std::string alone = "{\"value\":[" + line + "]}";
      expect_same_as_parse_page(ds, alone);
      if (via_parse_page(ds, alone).error.empty()) page_worthy.push_back(line);
    }
    EXPECT_GE(page_worthy.size(), 5u) << file;
    for (const auto& body : layouts(page_worthy)) expect_same_as_parse_page(ds, body);
  }
}

TEST(PageStream, SameAsParsePageForTrickyStrings) {
  for (const auto& body : layouts(tricky_cpe)) expect_same_as_parse_page(Dataset::cpe, body);
  const auto o = via_stream(Dataset::cpe, layouts(tricky_cpe)[0], 1);
  EXPECT_EQ(o.rows, 6u);
  // d6's string holds `","numberOfWeaknesses":1`: read as structure it would have stored 1.
  // Read as the string it is, it is not an integer: NULL, the string kept as sent.
  const auto d6 = o.copy.find("contoso\td6\t");
  ASSERT_NE(d6, std::string::npos);
  const auto fields = testing::decode_copy_line(std::string_view(o.copy).substr(d6, o.copy.find('\n', d6) - d6));
  EXPECT_EQ(fields[8], testing::Field{});  // numberOfWeaknesses
  EXPECT_EQ(fields.back(), testing::Field{R"({"_original":{"numberOfWeaknesses":"\"x\\\",\\\"numberOfWeaknesses\\\":1\""}})"});
  EXPECT_EQ(o.rejections,
            "4\tmissing softwareName\n"
            "6\trecord is null, not an object\n"
            "7\trecord is a number, not an object\n"
            "8\trecord is a string, not an object\n"
            "9\trecord is an array, not an object\n"
            "10\tmissing deviceId\n"
            "11\tregistryPaths: element 0 is an array, expected a string\n");
}

TEST(PageStream, EmptyValueInEveryLayout) {
  for (const auto& body : layouts({})) {
    expect_same_as_parse_page(Dataset::cpe, body);
    EXPECT_EQ(via_stream(Dataset::cpe, body, 1).rows, 0u);
  }
  expect_same_as_parse_page(Dataset::cpe, R"({"value":[ ]})");
  expect_same_as_parse_page(Dataset::cpe, "{\"value\":[\n\r\t]}");
}

TEST(PageStream, ManyRecordsAcrossChunkBoundariesWhileTheCallerFlushes) {
  std::vector<std::string> records;
  for (int i = 0; i < 600; ++i) {
    const std::string n = std::to_string(i);
    records.push_back(i % 97 == 5 ? R"({"deviceId":"only)" + n + "\"}"
                                  : R"({"deviceId":"dev)" + n + R"(","softwareName":"s\"w{)" + n +
                                        R"(}","diskPaths":["C:\\p)" + n + R"(\\",",]"],"numberOfWeaknesses":)" + n + "}");
  }
  const std::string body = layouts(records)[4];
  const Outcome want = via_parse_page(Dataset::cpe, body);
  ASSERT_EQ(want.error, "");
  EXPECT_EQ(want.rows, 593u);
  for (const std::size_t chunk : chunk_sizes) EXPECT_EQ(via_stream(Dataset::cpe, body, chunk, 1000), want) << chunk;
}

// JSON string content built from the pieces that trip a scanner: quotes and
// backslashes escaped in every way, brackets and commas, and runs of escaped
// backslashes long enough to cross 64-byte blocks at every parity.
std::string random_json_string(std::mt19937& rng) {
  static const char* const pieces[] = {"a", "\\\\", "\\\"", "{", "}", "[", "]", ",", ":", "\\u005c", "\\u0022",
                                       " ", "\xc3\xa9", "\\n", "\\/", "\\\\\\\"", "xyz0123456789"};
  std::string s;
  const std::size_t n = rng() % 40;
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 16 == 0) {
      s.append(2 * (rng() % 70), '\\');  // an even run: that many literal backslashes halved
      continue;
    }
    s += pieces[rng() % std::size(pieces)];
  }
  return s;
}

TEST(PageStream, SameAsParsePageForRandomStringsAndChunks) {
  std::mt19937 rng(20261122);
  for (int page = 0; page < 40; ++page) {
    std::vector<std::string> records;
    const std::size_t n = rng() % 30;
    for (std::size_t i = 0; i < n; ++i) {
      const auto str = [&] { return "\"" + random_json_string(rng) + "\""; };
      records.push_back("{\"deviceId\":" + str() + ",\"softwareName\":" + str() + ",\"diskPaths\":[" + str() + "," +
                        str() + "],\"x\":[{\"y\":" + str() + "},[[" + str() + "]]]," + str() + ":" + str() + "}");
    }
    const auto bodies = layouts(records);
    const std::string& body = bodies[rng() % bodies.size()];
    const Outcome want = via_parse_page(Dataset::cpe, body);
    ASSERT_EQ(want.error, "") << body;
    for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{64}, std::size_t{1 + rng() % 200}, whole})
      EXPECT_EQ(via_stream(Dataset::cpe, body, chunk), want) << "chunk " << chunk << " body " << body;
  }
}

TEST(PageStream, EveryTruncationIsAnError) {
  const std::string body = layouts(tricky_cpe)[4];
  for (std::size_t cut = 0; cut < body.size(); ++cut) {
    for (const std::size_t chunk : {std::size_t{7}, whole}) {
      const auto error = stream_error(body.substr(0, cut), chunk);
      EXPECT_THAT(error, StartsWith("page is")) << cut;
    }
  }
  EXPECT_THAT(stream_error(R"({"value":[{"deviceId":"a","softwareName":"s"},{"deviceId")"),
              "page is not JSON: truncated after 57 bytes, in record 1");
  EXPECT_EQ(stream_error(""), "page is not JSON: Empty: no JSON found");
  EXPECT_EQ(stream_error(" \n"), "page is not JSON: Empty: no JSON found");
}

TEST(PageStream, WithoutValueArrayIsAnError) {
  EXPECT_EQ(stream_error(read_fixture("page_no_value.json")), "page has no \"value\" array");
  EXPECT_EQ(stream_error(R"({"value":null})"), "page \"value\" is not an array at byte 9");
  EXPECT_THAT(stream_error(R"({"value" : {"deviceId":"d"}})"), StartsWith("page \"value\" is not an array at byte 11"));
  EXPECT_THAT(stream_error(R"({"value":"[]"})"), StartsWith("page \"value\" is not an array"));
  EXPECT_THAT(stream_error(R"([{"deviceId":"d"}])"), StartsWith("page is not a JSON object"));
  EXPECT_EQ(stream_error(R"({"value":[],"value":[]})"), "page has two \"value\" arrays at byte 12");
  EXPECT_EQ(stream_error(R"({"value":[1,2],"valu\u0065":[]})"), "page has two \"value\" arrays at byte 15");
}

TEST(PageStream, TrailingContentIsAnErrorAsInParsePage) {
  const std::string body = R"({"value":[]} {"value":[]})";
  for (const std::size_t chunk : chunk_sizes)
    EXPECT_EQ(stream_error(body, chunk), via_parse_page(Dataset::cpe, body).error);
  EXPECT_EQ(stream_error(R"({"value":[{"deviceId":"a"}]}x)"), "trailing content after the page object at byte 28");
  EXPECT_EQ(stream_error("{\"value\":[]}\n\n}"), "trailing content after the page object at byte 14");
}

TEST(PageStream, HtmlIsRefusedAtItsFirstByte) {
  const std::string html = read_fixture("page_not_json.html");
  EXPECT_EQ(stream_error(html), via_parse_page(Dataset::cpe, html).error);
  std::string copy;
  RecordEncoder encoder(Dataset::cpe, "contoso");
  PageStream stream(encoder, copy);
  stream.feed("\r\n ");
  EXPECT_THROW(stream.feed("<"), PageError);  // not after the rest of a large body
  EXPECT_THROW(stream.feed("{}"), PageError);  // and the stream stays failed
  EXPECT_THROW(stream.finish(), PageError);
}

TEST(PageStream, BrokenStructureIsAnErrorNamingRecordAndByte) {
  const std::string broken = R"({"value":[{"deviceId":"a","softwareName":"s"},{"deviceId":"b","softwareName":}]})";
  EXPECT_EQ(stream_error(broken), via_parse_page(Dataset::cpe, broken).error);
  EXPECT_THAT(stream_error(R"({"value":[1,,2]})"), StartsWith("page is not valid JSON: record 1 is missing at byte 12"));
  EXPECT_THAT(stream_error(R"({"value":[1,]})"), StartsWith("page is not valid JSON: record 1 is missing at byte 12"));
  EXPECT_THAT(stream_error(R"({"value":[1}]})"), StartsWith("page is not valid JSON: unmatched '}' in \"value\" at byte 11"));
  EXPECT_THAT(stream_error(R"({"value":[{"a":[1}]})"), StartsWith("page is not valid JSON: record 0: unmatched '}' at byte 17"));
  EXPECT_THAT(stream_error(R"({"value":[{"deviceId":"d"} {"deviceId":"e"}]})"), StartsWith("page is not valid JSON: record 0: "));
  EXPECT_THAT(stream_error(R"({"a":[}, "value":[]})"), StartsWith("page is not valid JSON: unmatched '}' at byte 6"));
  EXPECT_THAT(stream_error("{\"value\":[{\"deviceId\":\"\xff\",\"softwareName\":\"s\"}]}"),
              StartsWith("page is not JSON: record 0: The input is not valid UTF-8"));
}

TEST(PageStream, EnvelopeErrorsCountBytesOfTheWholePage) {
  // parse_page reads the envelope with `value` cut out; its offsets are mapped back.
  for (const std::string body : {R"({"value":[{"deviceId":"a","softwareName":"s"}],"@odata.nextLink":42})",
                                 R"({"@odata.nextLink":[],"value":[1,2,3]})", R"({"value":[1,2,3],"a":1 "b":2})"}) {
    const auto want = via_parse_page(Dataset::cpe, body).error;
    ASSERT_NE(want, "") << body;
    for (const std::size_t chunk : chunk_sizes) EXPECT_EQ(stream_error(body, chunk), want) << body;
  }
}

TEST(PageStream, OversizedRecordIsRefusedBeforeItIsBuffered) {
  std::string copy;
  RecordEncoder encoder(Dataset::cpe, "contoso");
  PageStream stream(encoder, copy);
  stream.feed(R"({"value":[{"deviceId":"a","softwareName":"s"},{"deviceId":")");
  const std::string chunk(64 * 1024, 'x');
  std::size_t fed = 0;
  try {
    while (fed < 2 * max_page_record_bytes) {
      stream.feed(chunk);
      fed += chunk.size();
    }
    ADD_FAILURE() << "no PageError after " << fed << " bytes of one record";
  } catch (const PageError& e) {
    EXPECT_EQ(std::string(e.what()), "page record 1 at byte 46 is larger than 16 MiB");
  }
  EXPECT_LE(fed, max_page_record_bytes);
  EXPECT_EQ(copy.substr(0, 10), "contoso\ta\t");  // record 0 was already stored
}

TEST(PageStream, OversizedEnvelopeIsAnError) {
  std::string body = R"({"value":[],"junk":")" + std::string(max_page_record_bytes, 'x') + "\"}";
  EXPECT_EQ(stream_error(body, 1 << 20), "page has more than 16 MiB outside its \"value\" array");
}

// Not a test: `test_parse --gtest_also_run_disabled_tests --gtest_filter='*Benchmark*'`
// prints parse_page against PageStream on a 200,000-record page. Nothing is asserted
// about time.

std::string generated_page(std::size_t records) {
  std::string body =
      R"j({"@odata.context":"https://api.securitycenter.microsoft.com/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetSoftware)","value":[)j";
  body.reserve(records * 560 + 256 + simdjson::SIMDJSON_PADDING);
  char hex[41];
  for (std::size_t i = 0; i < records; ++i) {
    std::snprintf(hex, sizeof hex, "%08zx%032zx", i * 2654435761u % 4294967291u, i / 20);
    const std::size_t v = i % 20;
    if (i) body += ",";
    body += R"({"id":")" + std::string(hex) + "_vendor" + std::to_string(v) + R"(_product","deviceId":")" + hex +
            R"(","rbacGroupName":"UnassignedGroup","deviceName":"computerpii_)" + std::string(hex, 12) +
            R"(.domainpii_21eeb80d.corp.contoso.com","osPlatform":"Windows10","softwareVendor":"vendor)" +
            std::to_string(v) + R"(","softwareName":"product_)" + std::to_string(v) +
            R"(","softwareVersion":"10.0.17763.)" + std::to_string(i % 5000) +
            R"(","numberOfWeaknesses":)" + std::to_string(i % 60) +
            R"(,"diskPaths":["C:\\Program Files\\Vendor)" + std::to_string(v) + R"(\\product.exe"],)" +
            R"("registryPaths":["HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{)" +
            std::string(hex, 8) + R"(}"],"softwareFirstSeenTimestamp":"2020-12-30 11:07:15",)" +
            R"("endOfSupportStatus":"Upcoming EOS Version","endOfSupportDate":"2021-05-11T00:00:00+00:00"})";
  }
  body += R"(],"@odata.nextLink":"https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pageSize=200000&$skiptoken=xyz"})";
  return body;
}

long long status_kib(const char* key) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.starts_with(key)) return std::stoll(line.substr(std::string_view(key).size()));
  return -1;
}

// The peak resident memory `run` adds, measured in a child process so that
// neither run sees the other's freed memory; -1 when /proc cannot say.
long long peak_extra_kib(const std::function<void()>& run) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    long long extra = -1;
    if (std::ofstream("/proc/self/clear_refs") << "5") {  // resets VmHWM to VmRSS
      const long long before = status_kib("VmRSS:");
      run();
      extra = status_kib("VmHWM:") - before;
    }
    (void)!write(fds[1], &extra, sizeof extra);
    _exit(0);
  }
  long long extra = -1;
  if (read(fds[0], &extra, sizeof extra) != sizeof extra) extra = -1;
  close(fds[0]);
  close(fds[1]);
  waitpid(pid, nullptr, 0);
  return extra;
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

TEST(PageStream, DISABLED_BenchmarkAgainstParsePage) {
  const std::string body = generated_page(200000);
  const double mb = static_cast<double>(body.size()) / 1e6;
  const simdjson::padded_string_view padded(body.data(), body.size(), body.capacity());
  constexpr std::size_t chunk = 64 * 1024, flush_at = 1024 * 1024;

  // As pull.cpp does: one parser and one COPY buffer for every page of a pull.
  RecordEncoder page_encoder(Dataset::cpe, "contoso");
  simdjson::ondemand::parser page_parser;
  std::string page_copy;
  const auto run_parse_page = [&] {
    page_copy.clear();
    return parse_page(page_encoder, page_parser, padded, page_copy);
  };
  // As the caller will: COPY (here: drop) the text whenever it passes 1 MiB.
  const auto run_stream = [&](std::string* keep) {
    RecordEncoder encoder(Dataset::cpe, "contoso");
    std::string copy;
    PageStream stream(encoder, copy);
    for (std::size_t at = 0; at < body.size(); at += chunk) {
      stream.feed(std::string_view(body).substr(at, chunk));
      if (copy.size() > flush_at) {
        if (keep) *keep += copy;
        copy.clear();
      }
    }
    PageResult r = stream.finish();
    if (keep) *keep += copy;
    return r;
  };

  // First, while nothing has been freed that a child could reuse unseen.
  const long long page_kib = peak_extra_kib([&] { run_parse_page(); });
  const long long stream_kib = peak_extra_kib([&] { run_stream(nullptr); });
  double cold_page = 0;
  {
    std::string got;
    const double c0 = cpu_seconds();
    const auto a = run_parse_page();  // the first page of a pull: the parser and the buffer grow
    cold_page = cpu_seconds() - c0;
    const auto b = run_stream(&got);
    ASSERT_EQ(a.rows, 200000u);
    EXPECT_EQ(b.rows, a.rows);
    EXPECT_EQ(b.next_link, a.next_link);
    EXPECT_TRUE(got == page_copy) << "COPY text differs";
  }
  using clock = std::chrono::steady_clock;
  struct Best {
    double wall = 1e9, cpu = 1e9;
  } page, stream;
  const auto time = [](Best& best, const auto& run) {
    const auto t0 = clock::now();
    const double c0 = cpu_seconds();
    run();
    best.cpu = std::min(best.cpu, cpu_seconds() - c0);
    best.wall = std::min(best.wall, std::chrono::duration<double>(clock::now() - t0).count());
  };
  for (int round = 0; round < 5; ++round) {
    time(page, run_parse_page);
    time(stream, [&] { run_stream(nullptr); });
  }
  std::printf("page: %.1f MB, 200000 records; simdjson %s (stage 1: %s); best of 5\n", mb,
              simdjson::builtin_implementation()->name().c_str(), simdjson::get_active_implementation()->name().c_str());
  std::printf("parse_page, first page: cpu %6.3f s %6.1f MB/s; peak extra RSS %lld KiB\n", cold_page, mb / cold_page,
              page_kib);
  std::printf("parse_page, next pages: cpu %6.3f s %6.1f MB/s, wall %6.3f s %6.1f MB/s\n", page.cpu, mb / page.cpu,
              page.wall, mb / page.wall);
  std::printf("PageStream, 64 KiB:     cpu %6.3f s %6.1f MB/s, wall %6.3f s %6.1f MB/s; peak extra RSS %lld KiB\n",
              stream.cpu, mb / stream.cpu, stream.wall, mb / stream.wall, stream_kib);
}

}  // namespace
}  // namespace mdesync::parse
