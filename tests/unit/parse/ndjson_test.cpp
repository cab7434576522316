#include "parse/ndjson.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "alloc_counter.hpp"
#include "fixture.hpp"

namespace mdesync::parse {
namespace {

using ::testing::HasSubstr;
using testing::read_fixture;

struct Read {
  std::string copy;
  std::size_t rows = 0, rejected = 0, lines = 0;
  std::vector<Rejection> rejections;
};

// Feeds `bytes` in pieces whose sizes come from `next_size`, then finishes.
template <typename NextSize>
Read read(model::Dataset ds, const std::string& name, std::string_view bytes, NextSize next_size) {
  RecordEncoder encoder(ds, "contoso");
  Read r;
  NdjsonReader reader(encoder, name, r.copy);
  while (!bytes.empty()) {
    const std::size_t n = std::min<std::size_t>(bytes.size(), std::max<std::size_t>(1, next_size()));
    reader.feed(bytes.substr(0, n));
    bytes.remove_prefix(n);
  }
  reader.finish();
  r.rows = reader.rows();
  r.rejected = reader.rejected();
  r.lines = reader.lines();
  r.rejections = reader.rejections();
  return r;
}

Read read_whole(model::Dataset ds, const std::string& name, std::string_view bytes) {
  return read(ds, name, bytes, [&] { return bytes.size(); });
}

std::string format(const std::vector<Rejection>& rejections) {
  std::string s;
  for (const auto& r : rejections) s += std::to_string(r.index) + "\t" + r.reason + "\n";
  return s;
}

TEST(Ndjson, CpeFixtureRecords) {
  const auto r = read_whole(model::Dataset::cpe, "cpe_records.ndjson", read_fixture("cpe_records.ndjson"));
  EXPECT_EQ(r.copy, read_fixture("cpe_records.expected"));
  EXPECT_EQ(r.rows, 10u);
  EXPECT_EQ(r.rejected, 0u) << format(r.rejections);
}

TEST(Ndjson, NoncpeFixtureRecords) {
  const auto r = read_whole(model::Dataset::noncpe, "noncpe_records.ndjson", read_fixture("noncpe_records.ndjson"));
  EXPECT_EQ(r.copy, read_fixture("noncpe_records.expected"));
  EXPECT_EQ(r.rows, 7u);
  EXPECT_EQ(r.rejected, 0u) << format(r.rejections);
}

TEST(Ndjson, CpeFixtureRejectionsCarryFileAndLine) {
  const auto r = read_whole(model::Dataset::cpe, "cpe_rejects.ndjson", read_fixture("cpe_rejects.ndjson"));
  EXPECT_EQ(format(r.rejections), read_fixture("cpe_rejects.rejections"));
  // Stored: the last line, and the lines whose U+0000 or non-integer values were
  // altered to fit (extra_fields._original keeps them as sent).
  EXPECT_EQ(r.copy, read_fixture("cpe_rejects.expected"));
  EXPECT_EQ(r.rows, 8u);
  EXPECT_EQ(r.rejected, r.rejections.size());
}

TEST(Ndjson, NoncpeFixtureRejectionsCarryFileAndLine) {
  const auto r = read_whole(model::Dataset::noncpe, "noncpe_rejects.ndjson", read_fixture("noncpe_rejects.ndjson"));
  EXPECT_EQ(format(r.rejections), read_fixture("noncpe_rejects.rejections"));
  // rbacGroupId values that are not integers in range: stored as NULL, kept as sent.
  EXPECT_EQ(r.copy, read_fixture("noncpe_rejects.expected"));
  EXPECT_EQ(r.rows, 10u);
}

TEST(Ndjson, OneByteAtATimeGivesTheSameOutputAsOneFeed) {
  for (const char* name : {"cpe_records.ndjson", "cpe_rejects.ndjson"}) {
    const std::string bytes = read_fixture(name);
    const auto whole = read_whole(model::Dataset::cpe, name, bytes);
    const auto bytewise = read(model::Dataset::cpe, name, bytes, [] { return 1; });
    EXPECT_EQ(bytewise.copy, whole.copy) << name;
    EXPECT_EQ(format(bytewise.rejections), format(whole.rejections)) << name;
    EXPECT_EQ(bytewise.rows, whole.rows);
  }
}

TEST(Ndjson, ArbitraryFeedBoundariesGiveTheSameOutput) {
  const std::string bytes = read_fixture("cpe_records.ndjson") + read_fixture("cpe_rejects.ndjson");
  const auto whole = read_whole(model::Dataset::cpe, "f", bytes);
  for (unsigned seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    const auto r = read(model::Dataset::cpe, "f", bytes, [&] { return rng() % 700; });
    ASSERT_EQ(r.copy, whole.copy) << "seed " << seed;
    ASSERT_EQ(format(r.rejections), format(whole.rejections)) << "seed " << seed;
  }
}

TEST(Ndjson, CrlfBlankLinesAndMissingFinalNewline) {
  const std::string lf = "{\"deviceId\":\"a\",\"softwareName\":\"s\"}\n{\"deviceId\":\"b\",\"softwareName\":\"s\"}\n";
  const std::string messy =
      "\r\n{\"deviceId\":\"a\",\"softwareName\":\"s\"}\r\n\n   \r\n\t\n{\"deviceId\":\"b\",\"softwareName\":\"s\"}";
  const auto a = read_whole(model::Dataset::noncpe, "f", lf);
  const auto b = read_whole(model::Dataset::noncpe, "f", messy);
  EXPECT_EQ(a.rows, 2u);
  EXPECT_EQ(b.rows, 2u);
  EXPECT_EQ(b.rejected, 0u) << format(b.rejections);
  EXPECT_EQ(b.copy, a.copy);
  EXPECT_EQ(b.lines, 6u);
  EXPECT_EQ(b.copy.find('\r'), std::string::npos);
}

TEST(Ndjson, LastLineWithoutNewlineNeedsFinish) {
  RecordEncoder encoder(model::Dataset::noncpe, "contoso");
  std::string copy;
  NdjsonReader reader(encoder, "f", copy);
  reader.feed(R"({"deviceId":"a","softwareName":"s"})");
  EXPECT_EQ(reader.rows(), 0u);
  reader.finish();
  EXPECT_EQ(reader.rows(), 1u);
  reader.finish();  // nothing left: no second row
  EXPECT_EQ(reader.rows(), 1u);
}

TEST(Ndjson, BadLinesAreCountedWithTheirLineNumberAndReadingGoesOn) {
  const std::string bytes =
      "{\"deviceId\":\"a\",\"softwareName\":\"s\"}\n"
      "not json at all\n"
      "\n"
      "{\"deviceId\":\"b\",\"softwareName\":\"s\",\n"
      "[\"array\"]\n"
      "{\"softwareName\":\"s\"}\n"
      "{\"deviceId\":\"c\",\"softwareName\":\"s\"}\n";
  const auto r = read_whole(model::Dataset::noncpe, "part-1.json.gz", bytes);
  EXPECT_EQ(r.rows, 2u);
  EXPECT_EQ(r.rejected, 4u);
  ASSERT_EQ(r.rejections.size(), 4u);
  EXPECT_EQ(r.rejections[0].index, 2u);
  EXPECT_EQ(r.rejections[0].reason, "part-1.json.gz line 2: not a JSON object");
  EXPECT_EQ(r.rejections[1].index, 4u);
  EXPECT_THAT(r.rejections[1].reason, ::testing::StartsWith("part-1.json.gz line 4: "));
  EXPECT_EQ(r.rejections[2].reason, "part-1.json.gz line 5: not a JSON object");
  EXPECT_EQ(r.rejections[3].reason, "part-1.json.gz line 6: missing deviceId");
  EXPECT_THAT(r.copy, HasSubstr("contoso\tc\t"));
}

TEST(Ndjson, ByteOrderMarkOnTheFirstLineIsIgnored) {
  const auto r = read_whole(model::Dataset::noncpe, "f", "\xEF\xBB\xBF{\"deviceId\":\"a\",\"softwareName\":\"s\"}\n");
  EXPECT_EQ(r.rows, 1u);
  EXPECT_EQ(r.rejected, 0u) << format(r.rejections);
}

TEST(Ndjson, OverlongLineIsRejectedWithoutStoppingTheFile) {
  RecordEncoder encoder(model::Dataset::noncpe, "contoso");
  std::string copy;
  NdjsonReader reader(encoder, "big.json.gz", copy);
  reader.feed("{\"deviceId\":\"a\",\"softwareName\":\"s\"}\n{\"deviceId\":\"");
  const std::string chunk(1 << 20, 'x');
  for (std::size_t fed = 0; fed <= max_line_bytes; fed += chunk.size()) reader.feed(chunk);
  reader.feed("\",\"softwareName\":\"s\"}\n{\"deviceId\":\"b\",\"softwareName\":\"s\"}");
  reader.finish();
  EXPECT_EQ(reader.rows(), 2u);
  EXPECT_EQ(reader.rejected(), 1u);
  ASSERT_EQ(reader.rejections().size(), 1u);
  EXPECT_EQ(reader.rejections()[0].reason, "big.json.gz line 2: line longer than 16 MiB");
  EXPECT_EQ(reader.lines(), 3u);
}

TEST(Ndjson, OverlongFinalLineWithoutNewline) {
  RecordEncoder encoder(model::Dataset::noncpe, "contoso");
  std::string copy;
  NdjsonReader reader(encoder, "f", copy);
  reader.feed(std::string(max_line_bytes + 1, 'x'));
  reader.finish();
  EXPECT_EQ(reader.rejected(), 1u);
  EXPECT_EQ(reader.rows(), 0u);
}

TEST(Ndjson, DetailsAreCappedButEveryRejectionIsCounted) {
  std::string bytes;
  for (int i = 0; i < 1500; ++i) bytes += "{\"deviceId\":\"no software\"}\n";
  bytes += "{\"deviceId\":\"a\",\"softwareName\":\"s\"}\n";
  const auto r = read_whole(model::Dataset::noncpe, "f", bytes);
  EXPECT_EQ(r.rejected, 1500u);
  EXPECT_EQ(r.rejections.size(), max_rejection_details);
  EXPECT_EQ(r.rejections.back().index, max_rejection_details);
  EXPECT_EQ(r.rows, 1u);
}

TEST(Ndjson, SteadyStateReadingDoesNotAllocate) {
  const std::string line =
      R"({"deviceId":"00044f68765bbaf712342dbe6db733b6a9c59ab4","rbacGroupName":"hhh","deviceName":"host",)"
      R"("osPlatform":"Windows10","softwareVendor":"microsoft","softwareName":"windows_10","softwareVersion":"10.0",)"
      R"("numberOfWeaknesses":58,"diskPaths":["C:\\a.exe"],"registryPaths":[],"softwareFirstSeenTimestamp":"2020-12-30 11:07:15",)"
      R"("endOfSupportStatus":"","endOfSupportDate":"2021-05-11T00:00:00+00:00"})"
      "\r\n";
  std::string chunk;
  for (int i = 0; i < 50; ++i) chunk += line;
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  std::string copy;
  copy.reserve(1 << 20);
  NdjsonReader reader(encoder, "f", copy);
  // Warm up, including a line split across feeds so the partial buffer has grown.
  reader.feed(chunk);
  reader.feed(std::string_view(chunk).substr(0, 100));
  reader.feed(std::string_view(chunk).substr(100));
  std::size_t allocations;
  {
    testing::AllocationScope scope;
    for (int i = 0; i < 10; ++i) {
      reader.feed(std::string_view(chunk).substr(0, 77));
      reader.feed(std::string_view(chunk).substr(77));
    }
    allocations = scope.count();
  }
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(reader.rows(), 600u);
  EXPECT_EQ(reader.rejected(), 0u);
}

}  // namespace
}  // namespace mdesync::parse
