#include "parse/record_encoder.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "alloc_counter.hpp"
#include "copy_decode.hpp"
#include "parse/json_value.hpp"

namespace mdesync::parse {
namespace {

using model::ColumnType;
using model::Dataset;
using testing::decode_copy_line;
using testing::Field;

struct Encoded {
  Verdict verdict{};
  std::string out;
  std::string reason;
};

// Encodes one JSON object with a fresh encoder for tenant "contoso"; `out` starts as `prefix`.
Encoded encode(Dataset ds, std::string_view json, std::string prefix = {}) {
  RecordEncoder encoder(ds, "contoso");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(json);
  simdjson::ondemand::document doc;
  Encoded r;
  r.out = std::move(prefix);
  EXPECT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS) << json;
  simdjson::ondemand::value value;
  EXPECT_EQ(doc.get_value().get(value), simdjson::SUCCESS) << json;
  r.verdict = encoder.encode(value, r.out);
  r.reason = encoder.reason();
  return r;
}

// The fields of the single COPY line in `out`, tenant first.
std::vector<Field> fields(const std::string& out) {
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(out.find('\n'), out.size() - 1) << "exactly one line";
  return decode_copy_line(std::string_view(out).substr(0, out.size() - 1));
}

std::size_t column_index(Dataset ds, std::string_view json_name) {
  const auto columns = model::spec(ds).columns;
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i].json_name == json_name) return i;
  ADD_FAILURE() << "no column " << json_name;
  return 0;
}

// A JSON value of the column's kind and the COPY field it must become.
std::pair<std::string, std::string> sample(const model::Column& c) {
  switch (c.type) {
    case ColumnType::text: return {"\"v-" + std::string(c.json_name) + "\"", "v-" + std::string(c.json_name)};
    case ColumnType::integer: return {"42", "42"};
    case ColumnType::timestamptz: return {"\"2021-01-30 11:31:12.271\"", "2021-01-30 11:31:12.271+00"};
    case ColumnType::text_array: return {"[\"p\",null]", "{\"p\",NULL}"};
  }
  return {};
}

std::string required_plus(std::string_view extra) {
  std::string json = R"({"deviceId":"d","softwareName":"s")";
  if (!extra.empty()) json.append(",").append(extra);
  return json + "}";
}

TEST(RecordEncoder, EveryColumnLandsInItsPositionAfterTheTenant) {
  for (const Dataset ds : model::all_datasets) {
    const auto columns = model::spec(ds).columns;
    const std::size_t device = column_index(ds, "deviceId"), software = column_index(ds, "softwareName");
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto& c = columns[i];
      const auto [json, copy] = sample(c);
      // For deviceId and softwareName this repeats the field; the later value wins.
      const std::string record = required_plus("\"" + std::string(c.json_name) + "\":" + json);
      const auto r = encode(ds, record);
      ASSERT_EQ(r.verdict, Verdict::stored) << record << " " << r.reason;
      const auto f = fields(r.out);
      ASSERT_EQ(f.size(), columns.size() + 2);  // tenant, columns, extra_fields
      EXPECT_EQ(f.back(), Field{}) << "extra_fields is NULL for a record of documented fields only";
      EXPECT_EQ(f[0], Field{"contoso"});
      EXPECT_EQ(f[i + 1], Field{copy}) << c.json_name;
      if (i != device) {
        EXPECT_EQ(f[device + 1], Field{"d"});
      }
      if (i != software) {
        EXPECT_EQ(f[software + 1], Field{"s"});
      }
      for (std::size_t j = 0; j < columns.size(); ++j) {
        if (j == i || j == device || j == software) continue;
        EXPECT_EQ(f[j + 1], columns[j].key ? Field{""} : Field{}) << c.json_name << " leaked into " << columns[j].json_name;
      }
    }
  }
}

TEST(RecordEncoder, NullAndMissingAreEmptyForKeyColumnsAndNullOtherwise) {
  for (const Dataset ds : model::all_datasets) {
    const auto columns = model::spec(ds).columns;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const auto& c = columns[i];
      if (c.json_name == "deviceId" || c.json_name == "softwareName") continue;
      const Field expected = c.key ? Field{""} : Field{};
      for (const std::string& record :
           {required_plus(""), required_plus("\"" + std::string(c.json_name) + "\":null")}) {
        const auto r = encode(ds, record);
        ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
        EXPECT_EQ(fields(r.out)[i + 1], expected) << c.json_name << " in " << record;
      }
    }
  }
}

TEST(RecordEncoder, KeyColumnsAreTheOnesTheModelMarks) {
  // softwareVendor and softwareVersion are keys: null must not become \N.
  const auto r = encode(Dataset::cpe, required_plus(R"("softwareVendor":null,"softwareVersion":null,"deviceName":null)"));
  ASSERT_EQ(r.verdict, Verdict::stored);
  EXPECT_EQ(r.out, "contoso\td\t\\N\t\\N\t\\N\t\ts\t\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n");
}

TEST(RecordEncoder, RequiredFieldsMissingNullOrEmptyAreRejected) {
  for (const char* json : {R"({"softwareName":"s"})", R"({"deviceId":null,"softwareName":"s"})",
                           R"({"deviceId":"","softwareName":"s"})", R"({"DeviceId":"","softwareName":"s"})"}) {
    const auto r = encode(Dataset::noncpe, json);
    EXPECT_EQ(r.verdict, Verdict::rejected) << json;
    EXPECT_EQ(r.reason, "missing deviceId") << json;
  }
  for (const char* json : {R"({"deviceId":"d"})", R"({"deviceId":"d","softwareName":null})",
                           R"({"deviceId":"d","softwareName":""})"}) {
    const auto r = encode(Dataset::cpe, json);
    EXPECT_EQ(r.verdict, Verdict::rejected) << json;
    EXPECT_EQ(r.reason, "missing softwareName") << json;
  }
}

TEST(RecordEncoder, RejectionLeavesOutputUnchanged) {
  const std::string before = "contoso\tearlier\trow\n";
  for (const char* json : {R"({"softwareName":"s","deviceName":"x"})",
                           R"({"deviceId":"d","softwareName":"s","diskPaths":["a","b",3]})",
                           R"({"deviceId":"d","softwareName":"s","softwareFirstSeenTimestamp":"soon"})"}) {
    const auto r = encode(Dataset::cpe, json, before);
    EXPECT_EQ(r.verdict, Verdict::rejected) << json;
    EXPECT_EQ(r.out, before) << json;
    EXPECT_FALSE(r.reason.empty());
  }
}

TEST(RecordEncoder, FieldNamesMatchCaseInsensitively) {
  const auto a = encode(Dataset::noncpe, R"({"deviceId":"d","rbacGroupId":5,"softwareName":"s","osPlatform":"w"})");
  const auto b = encode(Dataset::noncpe, R"({"DeviceId":"d","RBACGROUPID":5,"SoftwareName":"s","osplatform":"w"})");
  ASSERT_EQ(a.verdict, Verdict::stored);
  ASSERT_EQ(b.verdict, Verdict::stored) << b.reason;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(a.out, "contoso\td\t5\t\\N\t\\N\tw\t\ts\t\t\\N\t\\N\n");
}

TEST(RecordEncoder, UndocumentedFieldsOfAnyShapeAreKeptInExtraFields) {
  const auto plain = encode(Dataset::noncpe, R"({"deviceId":"d","softwareName":"s"})");
  const auto noisy = encode(Dataset::noncpe,
                            R"({"x":{"deviceId":"nested","a":[1,[2,{"b":null}]]},"deviceId":"d","y":[{"softwareName":"n"}],)"
                            R"("softwareName":"s","w":true,"v":null,"u":"\ud83d\ude00","diskPaths":["not noncpe"]})");
  ASSERT_EQ(noisy.verdict, Verdict::stored) << noisy.reason;
  const auto f = fields(noisy.out);
  const auto p = fields(plain.out);
  ASSERT_EQ(f.size(), p.size());
  for (std::size_t i = 0; i + 1 < f.size(); ++i) EXPECT_EQ(f[i], p[i]) << i;
  EXPECT_EQ(p.back(), Field{});
  EXPECT_EQ(f.back(), Field{R"({"x":{"deviceId":"nested","a":[1,[2,{"b":null}]]},"y":[{"softwareName":"n"}],"w":true,)"
                            R"("v":null,"u":"😀","diskPaths":["not noncpe"]})"});
}

TEST(RecordEncoder, UndocumentedFieldsAreCountedByNameAsSent) {
  RecordEncoder encoder(Dataset::cpe, "contoso");
  simdjson::ondemand::parser parser;
  std::string out;
  for (const char* json : {R"({"deviceId":"a","softwareName":"s","newField":1,"Other":2})",
                           R"({"deviceId":"b","softwareName":"s","newField":3})"}) {
    const simdjson::padded_string padded{std::string_view(json)};
    auto doc = parser.iterate(padded);
    ASSERT_EQ(encoder.encode(doc.get_object().value(), out), Verdict::stored);
    EXPECT_EQ(encoder.alteration(), "");
  }
  auto stats = encoder.take_stats();
  EXPECT_EQ(stats.altered, 0u);
  EXPECT_EQ(stats.undocumented, (std::map<std::string, std::uint64_t, std::less<>>{{"Other", 1}, {"newField", 2}}));
  EXPECT_TRUE(encoder.take_stats().undocumented.empty()) << "take_stats() starts over";
}

TEST(RecordEncoder, UndocumentedValuesJsonbCannotHoldAreAlteredAndKeptAsSent) {
  const auto r = encode(Dataset::noncpe, required_plus(R"("z":1e200000,"y":1e999,"n":"a\u0000","k\u0000":"v")"));
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  EXPECT_EQ(fields(r.out).back(),
            Field{R"({"z":"1e200000","y":1e999,"n":"a","k":"v","_original":{"z":"1e200000","n":"\"a\\u0000\"","k\\u0000":"\"v\""}})"});
  // A value that is not JSON at all still rejects the record, naming the field.
  const auto bad = encode(Dataset::noncpe, required_plus(R"("z":tru)"));
  EXPECT_EQ(bad.verdict, Verdict::rejected);
  EXPECT_EQ(bad.reason, "z: invalid literal tru");
}

TEST(RecordEncoder, RepeatedFieldLastOneWins) {
  const auto r = encode(Dataset::noncpe,
                        R"({"deviceId":"a","rbacGroupId":1,"softwareName":"s","deviceId":"b","rbacGroupId":null,)"
                        R"("DEVICEID":"c","deviceName":"x","deviceName":"y"})");
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  EXPECT_EQ(r.out, "contoso\tc\t\\N\t\\N\ty\t\\N\t\ts\t\t\\N\t\\N\n");
}

TEST(RecordEncoder, TextColumnsStoreNumbersAndBooleansAsTheirJsonText) {
  const auto r = encode(Dataset::noncpe,
                        R"({"deviceId":12345678901234567890123,"softwareName":true,"softwareVersion":1.50,"deviceName":-0.5e-7,"osPlatform":false})");
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  EXPECT_EQ(r.out, "contoso\t12345678901234567890123\t\\N\t\\N\t-0.5e-7\tfalse\t\ttrue\t1.50\t\\N\t\\N\n");
}

TEST(RecordEncoder, TextColumnsRejectObjectsAndArrays) {
  auto r = encode(Dataset::noncpe, required_plus(R"("deviceName":{"a":"b"})"));
  EXPECT_EQ(r.verdict, Verdict::rejected);
  EXPECT_EQ(r.reason, "deviceName: expected a string, found an object");
  r = encode(Dataset::noncpe, required_plus(R"("osPlatform":["Windows10"])"));
  EXPECT_EQ(r.reason, "osPlatform: expected a string, found an array");
}

TEST(RecordEncoder, IntegersFromNumbersAndStrings) {
  const std::pair<const char*, const char*> ok[] = {
      {"0", "0"},          {"11", "11"},       {"\"23\"", "23"},         {"-1", "-1"},
      {"\"+007\"", "7"},   {"\"-0\"", "0"},    {"2147483647", "2147483647"}, {"-2147483648", "-2147483648"},
      {"\"\"", "\\N"},     {"null", "\\N"},
  };
  for (const auto& [json, copy] : ok) {
    const auto r = encode(Dataset::noncpe, required_plus(std::string("\"rbacGroupId\":") + json));
    ASSERT_EQ(r.verdict, Verdict::stored) << json << ": " << r.reason;
    EXPECT_EQ(r.out, std::string("contoso\td\t") + copy + "\t\\N\t\\N\t\\N\t\ts\t\t\\N\t\\N\n") << json;
  }
}

TEST(RecordEncoder, IntegersOutOfRangeOrFractionalAreStoredAsNullWithTheOriginal) {
  // rbacGroupId comes as a number in pages and as a string in some outputs; what
  // is not an integer in range is NULL, its JSON text kept under _original.
  const std::pair<const char*, const char*> odd[] = {
      {"99999999999", "rbacGroupId: out of range for integer, stored as NULL"},
      {"\"99999999999\"", "rbacGroupId: out of range for integer, stored as NULL"},
      {"2147483648", "rbacGroupId: out of range for integer, stored as NULL"},
      {"-2147483649", "rbacGroupId: out of range for integer, stored as NULL"},
      {"99999999999999999999999999", "rbacGroupId: out of range for integer, stored as NULL"},
      {"1.5", "rbacGroupId: not an integer, stored as NULL"},
      {"1.0", "rbacGroupId: not an integer, stored as NULL"},
      {"1e2", "rbacGroupId: not an integer, stored as NULL"},
      {"\"1.5\"", "rbacGroupId: not an integer, stored as NULL"},
      {"\"twelve\"", "rbacGroupId: not an integer, stored as NULL"},
      {"true", "rbacGroupId: not an integer, stored as NULL"},
      {"{ }", "rbacGroupId: not an integer, stored as NULL"},
  };
  for (const auto& [json, what] : odd) {
    RecordEncoder encoder(Dataset::noncpe, "contoso");
    simdjson::ondemand::parser parser;
    const std::string record = required_plus(std::string("\"rbacGroupId\":") + json);
    const simdjson::padded_string padded(record);
    auto doc = parser.iterate(padded);
    std::string out;
    ASSERT_EQ(encoder.encode(doc.get_object().value(), out), Verdict::stored) << json << ": " << encoder.reason();
    EXPECT_EQ(encoder.alteration(), what) << json;
    const auto f = fields(out);
    EXPECT_EQ(f[column_index(Dataset::noncpe, "rbacGroupId") + 1], Field{}) << json;
    std::string original;
    append_jsonb_string(original, std::string(json) == "{ }" ? "{}" : json);
    EXPECT_EQ(f.back(), Field("{\"_original\":{\"rbacGroupId\":" + original + "}}")) << json;
    EXPECT_EQ(encoder.take_stats().altered, 1u);
  }
  const auto r = encode(Dataset::noncpe, required_plus(R"("rbacGroupId":-)"));
  EXPECT_EQ(r.verdict, Verdict::rejected);
  EXPECT_EQ(r.reason, "rbacGroupId: invalid number -");
}

TEST(RecordEncoder, ArraysEmptyNullNullElementsAndEscapes) {
  // The expected value is the array literal PostgreSQL sees after COPY decoding.
  const std::pair<const char*, Field> cases[] = {
      {"[]", Field{"{}"}},
      {"null", Field{}},
      {"[null]", Field{"{NULL}"}},
      {R"(["C:\\Program Files\\x.exe","a\"b",""])", Field{R"({"C:\\Program Files\\x.exe","a\"b",""})"}},
      {R"(["tab\there","line\nbreak","日本語 ®"])", Field{"{\"tab\there\",\"line\nbreak\",\"日本語 ®\"}"}},
  };
  for (const auto& [json, literal] : cases) {
    const auto r = encode(Dataset::cpe, required_plus(std::string("\"diskPaths\":") + json));
    ASSERT_EQ(r.verdict, Verdict::stored) << json << ": " << r.reason;
    EXPECT_EQ(fields(r.out)[column_index(Dataset::cpe, "diskPaths") + 1], literal) << json;
  }
  // And the bytes on the COPY line: literal backslashes doubled again, tab escaped.
  const auto r = encode(Dataset::cpe, required_plus(R"("diskPaths":["C:\\x","q\"","t\t"])"));
  EXPECT_NE(r.out.find(R"(	{"C:\\\\x","q\\"","t\t"}	)"), std::string::npos) << r.out;
}

TEST(RecordEncoder, ArraysRejectNonStringElementsAndNonArrays) {
  const std::pair<const char*, const char*> bad[] = {
      {"[1]", "registryPaths: element 0 is a number, expected a string"},
      {R"(["a",true])", "registryPaths: element 1 is a boolean, expected a string"},
      {R"(["a",{}])", "registryPaths: element 1 is an object, expected a string"},
      {R"([["a"]])", "registryPaths: element 0 is an array, expected a string"},
      {R"("HKLM\\x")", "registryPaths: expected an array of strings, found a string"},
      {"{}", "registryPaths: expected an array of strings, found an object"},
  };
  for (const auto& [json, reason] : bad) {
    const auto r = encode(Dataset::cpe, required_plus(std::string("\"registryPaths\":") + json));
    EXPECT_EQ(r.verdict, Verdict::rejected) << json;
    EXPECT_EQ(r.reason, reason) << json;
  }
}

TEST(RecordEncoder, TimestampsNormalisedNullEmptyAndGarbage) {
  const std::pair<const char*, const char*> ok[] = {
      {R"("2019-04-07 02:06:47")", "2019-04-07 02:06:47+00"},
      {R"("2021-01-30 11:31:12.271")", "2021-01-30 11:31:12.271+00"},
      {R"("2020-11-03 10:13:34.8476880")", "2020-11-03 10:13:34.8476880+00"},
      {R"("2020-12-30T00:00:00+00:00")", "2020-12-30 00:00:00+00:00"},
      {R"("2021-05-19T18:35:49.924Z")", "2021-05-19 18:35:49.924+00"},
      {R"("2021-05-19")", "2021-05-19 00:00:00+00"},
      {R"("")", "\\N"},
      {"null", "\\N"},
  };
  for (const auto& [json, copy] : ok) {
    const auto r = encode(Dataset::noncpe, required_plus(std::string("\"softwareLastSeenTimestamp\":") + json));
    ASSERT_EQ(r.verdict, Verdict::stored) << json << ": " << r.reason;
    EXPECT_EQ(r.out, std::string("contoso\td\t\\N\t\\N\t\\N\t\\N\t\ts\t\t") + copy + "\t\\N\n");
  }
  const std::pair<const char*, const char*> bad[] = {
      {R"("yesterday")", R"(softwareLastSeenTimestamp: unparseable timestamp "yesterday")"},
      {R"("2021-02-30")", R"(softwareLastSeenTimestamp: unparseable timestamp "2021-02-30")"},
      {R"("2021-01-01\ttab")", R"(softwareLastSeenTimestamp: unparseable timestamp "2021-01-01\ttab")"},
      {"1611999072", "softwareLastSeenTimestamp: expected a timestamp string, found a number"},
      {"[]", "softwareLastSeenTimestamp: expected a timestamp string, found an array"},
  };
  for (const auto& [json, reason] : bad) {
    const auto r = encode(Dataset::noncpe, required_plus(std::string("\"softwareLastSeenTimestamp\":") + json));
    EXPECT_EQ(r.verdict, Verdict::rejected) << json;
    EXPECT_EQ(r.reason, reason);
  }
}

TEST(RecordEncoder, LongValuesInReasonsAreCutAtACharacterBoundary) {
  // 99 ASCII bytes then a 3-byte character: the cut must not split it.
  const std::string value = std::string(99, 'a') + "日本";
  const auto r = encode(Dataset::noncpe, required_plus("\"softwareLastSeenTimestamp\":\"" + value + "\""));
  ASSERT_EQ(r.verdict, Verdict::rejected);
  EXPECT_EQ(r.reason, "softwareLastSeenTimestamp: unparseable timestamp \"" + std::string(99, 'a') + "\"...");
}

TEST(RecordEncoder, UnicodePassesThroughByteExact) {
  // Raw UTF-8 and the same characters as \u escapes (with a surrogate pair) give identical bytes.
  const auto raw = encode(Dataset::noncpe, required_plus(R"("deviceName":"intel® 日本語 😀 e\u0301")"));
  const auto escaped = encode(Dataset::noncpe, required_plus(R"("deviceName":"intel\u00ae \u65e5\u672c\u8a9e \ud83d\ude00 e\u0301")"));
  ASSERT_EQ(raw.verdict, Verdict::stored);
  ASSERT_EQ(escaped.verdict, Verdict::stored);
  EXPECT_EQ(fields(raw.out)[4], Field{"intel\xC2\xAE \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x98\x80 e\xCC\x81"});
  EXPECT_EQ(raw.out, escaped.out);
}

TEST(RecordEncoder, JsonEscapesDecodeThenCopyEscape) {
  const auto r = encode(Dataset::noncpe, required_plus(R"("deviceName":"a\\b\tc\nd\re\/f\"g\u0007")"));
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  EXPECT_EQ(fields(r.out)[4], Field{"a\\b\tc\nd\re/f\"g\a"});
  EXPECT_NE(r.out.find("a\\\\b\\tc\\nd\\re/f\"g\a"), std::string::npos) << r.out;
}

TEST(RecordEncoder, NulCharacterIsRemovedAtTheEndAndReplacedElsewhereKeepingTheOriginal) {
  struct Case {
    const char* extra;
    const char* column;
    Field stored;
    const char* original;  // the JSON text as sent, as it reads back from _original
  };
  const Case cases[] = {
      // A real non-CPE answer: a software name ending in U+0000.
      {R"("softwareName":"microsoft_wtt_2.6_-_client\u0000")", "softwareName", Field{"microsoft_wtt_2.6_-_client"},
       R"("microsoft_wtt_2.6_-_client\u0000")"},
      {R"("deviceName":"a\u0000b")", "deviceName", Field{"a\xEF\xBF\xBD" "b"}, R"("a\u0000b")"},
      {R"("deviceId":"\u0000")", "deviceId", Field{""}, R"("\u0000")"},
      {R"("rbacGroupId":"1\u0000")", "rbacGroupId", Field{"1"}, R"("1\u0000")"},
      {R"("softwareLastSeenTimestamp":"2021-01-01\u0000")", "softwareLastSeenTimestamp",
       Field{"2021-01-01 00:00:00+00"}, R"("2021-01-01\u0000")"},
  };
  for (const auto& c : cases) {
    RecordEncoder encoder(Dataset::noncpe, "contoso");
    simdjson::ondemand::parser parser;
    const std::string record = required_plus(c.extra);
    const simdjson::padded_string padded(record);
    auto doc = parser.iterate(padded);
    std::string out;
    const Verdict v = encoder.encode(doc.get_object().value(), out);
    if (std::string_view(c.column) == "deviceId") {
      // deviceId "" after the fix is missing: still rejected as such.
      EXPECT_EQ(v, Verdict::rejected);
      EXPECT_EQ(encoder.reason(), "missing deviceId");
      continue;
    }
    ASSERT_EQ(v, Verdict::stored) << c.extra << ": " << encoder.reason();
    EXPECT_EQ(encoder.alteration(), std::string(c.column) + ": U+0000 removed");
    const auto f = fields(out);
    EXPECT_EQ(f[column_index(Dataset::noncpe, c.column) + 1], c.stored) << c.extra;
    std::string original;
    append_jsonb_string(original, c.original);
    const std::string expected_extra = std::string(R"({"_original":{")") + c.column + "\":" + original + "}}";
    EXPECT_EQ(f.back(), Field(expected_extra)) << c.extra;
  }
  const auto r = encode(Dataset::cpe, required_plus(R"("diskPaths":["ok","x\u0000"])"));
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  const auto f = fields(r.out);
  EXPECT_EQ(f[column_index(Dataset::cpe, "diskPaths") + 1], Field{R"({"ok","x"})"});
  EXPECT_EQ(f.back(), Field{R"({"_original":{"diskPaths":"[\"ok\",\"x\\u0000\"]"}})"});
}

TEST(RecordEncoder, LongNonKeyValuesAreStoredWhateverTheirLength) {
  const std::string big(10 * 1024, 'x');
  for (const char* field : {"deviceName", "osPlatform", "rbacGroupName", "endOfSupportStatus"}) {
    const auto r = encode(Dataset::cpe, required_plus("\"" + std::string(field) + "\":\"" + big + "\""));
    ASSERT_EQ(r.verdict, Verdict::stored) << field << ": " << r.reason;
    EXPECT_EQ(fields(r.out)[column_index(Dataset::cpe, field) + 1], Field{big}) << field;
  }
  const auto paths = encode(Dataset::cpe, required_plus("\"diskPaths\":[\"" + big + "\",\"" + big + "\"]"));
  ASSERT_EQ(paths.verdict, Verdict::stored) << paths.reason;
  // A record of a megabyte.
  const std::string mega(1024 * 1024, 'y');
  const auto r = encode(Dataset::cpe, required_plus("\"registryPaths\":[\"" + mega + "\"],\"deviceName\":\"" + mega + "\""));
  ASSERT_EQ(r.verdict, Verdict::stored) << r.reason;
  EXPECT_EQ(fields(r.out)[column_index(Dataset::cpe, "deviceName") + 1], Field{mega});
}

TEST(RecordEncoder, OnlyAKeyLongerThanThePrimaryKeyCanHoldIsRejected) {
  // tenant "contoso" (7 bytes) + deviceId "d" + softwareName "s" + the version.
  const std::size_t room = max_key_bytes - 7 - 1 - 1;
  const auto fits = encode(Dataset::cpe, required_plus("\"softwareVersion\":\"" + std::string(room, 'v') + "\""));
  EXPECT_EQ(fits.verdict, Verdict::stored) << fits.reason;
  const auto too_long =
      encode(Dataset::cpe, required_plus("\"softwareVersion\":\"" + std::string(room + 1, 'v') + "\""));
  EXPECT_EQ(too_long.verdict, Verdict::rejected);
  EXPECT_EQ(too_long.reason, "deviceId, softwareVendor, softwareName and softwareVersion together with the tenant are " +
                                 std::to_string(max_key_bytes + 1) + " bytes, more than the " +
                                 std::to_string(max_key_bytes) + " the primary key can hold");
}

TEST(RecordEncoder, BadEscapesAndLoneSurrogatesRejectNamingTheField) {
  const std::pair<const char*, const char*> bad[] = {
      {R"("deviceName":"\ud800")", R"(deviceName: invalid escape or unpaired surrogate in "\ud800")"},
      {R"("deviceName":"x\udfff")", R"(deviceName: invalid escape or unpaired surrogate in "x\udfff")"},
      {R"("deviceName":"\ud800\u0041")", R"(deviceName: invalid escape or unpaired surrogate in "\ud800\u0041")"},
      {R"("osPlatform":"\q")", R"(osPlatform: invalid escape or unpaired surrogate in "\q")"},
      {R"("osPlatform":"\u12")", R"(osPlatform: invalid escape or unpaired surrogate in "\u12")"},
      {R"("rbacGroupId":"\ud800")", R"(rbacGroupId: invalid escape or unpaired surrogate in "\ud800")"},
  };
  for (const auto& [extra, reason] : bad) {
    const auto r = encode(Dataset::noncpe, required_plus(extra));
    EXPECT_EQ(r.verdict, Verdict::rejected) << extra;
    EXPECT_EQ(r.reason, reason);
  }
}

TEST(RecordEncoder, RecordThatIsNotAnObjectIsRejected) {
  // (Scalar records are covered through pages: a scalar document is not an ondemand::value.)
  EXPECT_EQ(encode(Dataset::cpe, "[1]").reason, "record is an array, not an object");
  EXPECT_EQ(encode(Dataset::cpe, "[]").verdict, Verdict::rejected);
}

TEST(RecordEncoder, TenantIsEscapedLikeAnyValue) {
  RecordEncoder encoder(Dataset::noncpe, "odd\ttenant\\");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(std::string_view(R"({"deviceId":"d","softwareName":"s"})"));
  auto doc = parser.iterate(padded);
  std::string out;
  ASSERT_EQ(encoder.encode(doc.get_object().value(), out), Verdict::stored);
  EXPECT_EQ(fields(out)[0], Field{"odd\ttenant\\"});
}

TEST(RecordEncoder, SteadyStateEncodingDoesNotAllocate) {
  RecordEncoder encoder(Dataset::cpe, "contoso");
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(std::string_view(
      R"({"deviceId":"00044f68765bbaf712342dbe6db733b6a9c59ab4","rbacGroupName":"hhh","deviceName":"host.corp.contoso.com",)"
      R"("osPlatform":"Windows10","softwareVendor":"microsoft","softwareName":"windows_10","softwareVersion":"10.0.17763.1637",)"
      R"("numberOfWeaknesses":58,"diskPaths":["C:\\Program Files\\a.exe","C:\\b"],"registryPaths":["HKLM\\SOFTWARE\\x"],)"
      R"("softwareFirstSeenTimestamp":"2020-12-30 11:07:15","endOfSupportStatus":"Upcoming EOS Version 日本",)"
      R"("endOfSupportDate":"2021-05-11T00:00:00+00:00","unknown":{"a":[1,2]}})"));
  std::string out;
  out.reserve(1 << 20);
  const auto run = [&] {
    simdjson::ondemand::document doc;
    ASSERT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS);
    simdjson::ondemand::object object;
    ASSERT_EQ(doc.get_object().get(object), simdjson::SUCCESS);
    ASSERT_EQ(encoder.encode(object, out), Verdict::stored);
  };
  for (int i = 0; i < 3; ++i) run();  // warm up: scratch strings and the parser reach their sizes
  std::size_t allocations;
  {
    testing::AllocationScope scope;
    for (int i = 0; i < 200; ++i) run();
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 203);
}

}  // namespace
}  // namespace mdesync::parse
