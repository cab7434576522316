#include "parse/gzip_ndjson_stream.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include "fixture.hpp"

namespace mdesync::parse {
namespace {

using testing::read_fixture;

// One gzip member holding `data` (deflateInit2 with 16 + MAX_WBITS writes the gzip wrapper).
std::string gzip(std::string_view data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct Streamed {
  std::string copy;
  std::size_t rows = 0, rejected = 0;
};

Streamed stream(std::string_view compressed, std::size_t piece = 0) {
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  Streamed s;
  GzipNdjsonStream st(encoder, "part-00000.json.gz", s.copy);
  if (piece == 0) piece = compressed.size() + 1;
  for (std::size_t i = 0; i < compressed.size(); i += piece) st.feed(compressed.substr(i, piece));
  st.finish();
  s.rows = st.reader().rows();
  s.rejected = st.reader().rejected();
  return s;
}

TEST(GzipNdjsonStream, InflatesAndEncodesTheFixture) {
  const auto s = stream(gzip(read_fixture("cpe_records.ndjson")));
  EXPECT_EQ(s.copy, read_fixture("cpe_records.expected"));
  EXPECT_EQ(s.rows, 10u);
}

TEST(GzipNdjsonStream, CompressedBytesOneAtATime) {
  const auto s = stream(gzip(read_fixture("cpe_records.ndjson")), 1);
  EXPECT_EQ(s.copy, read_fixture("cpe_records.expected"));
}

TEST(GzipNdjsonStream, MultiMemberFileReadsEveryMember) {
  // A line split across members must still join up: the split is in inflated bytes.
  const std::string text = read_fixture("cpe_records.ndjson");
  const std::size_t cut = text.find("\"DEVICEID\"");
  ASSERT_NE(cut, std::string::npos);
  const auto s = stream(gzip(text.substr(0, cut)) + gzip(text.substr(cut)));
  EXPECT_EQ(s.copy, read_fixture("cpe_records.expected"));
}

TEST(GzipNdjsonStream, TruncatedStreamThrowsAndDoesNotParseTheUnfinishedLine) {
  // The last line has no newline, so only finish() would store it; the stream lacks
  // its 8-byte trailer, so finish() must throw before that.
  std::string text = read_fixture("cpe_records.ndjson");
  ASSERT_EQ(text.back(), '\n');
  text.pop_back();
  const std::string compressed = gzip(text);
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  std::string copy;
  GzipNdjsonStream st(encoder, "f", copy);
  st.feed(std::string_view(compressed).substr(0, compressed.size() - 8));
  EXPECT_THROW(st.finish(), codec::GzipError);
  EXPECT_EQ(st.reader().rows(), 9u);
  EXPECT_EQ(st.reader().rejected(), 0u);
}

TEST(GzipNdjsonStream, StreamCutMidDataThrows) {
  const std::string compressed = gzip(read_fixture("cpe_records.ndjson"));
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  std::string copy;
  GzipNdjsonStream st(encoder, "f", copy);
  st.feed(std::string_view(compressed).substr(0, compressed.size() / 2));
  EXPECT_THROW(st.finish(), codec::GzipError);
}

TEST(GzipNdjsonStream, CorruptStreamThrows) {
  std::string compressed = gzip(read_fixture("cpe_records.ndjson"));
  for (std::size_t i = 20; i < 60; ++i) compressed[i] = static_cast<char>(compressed[i] ^ 0x5A);
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  std::string copy;
  GzipNdjsonStream st(encoder, "f", copy);
  EXPECT_THROW(
      {
        st.feed(compressed);
        st.finish();
      },
      codec::GzipError);
}

TEST(GzipNdjsonStream, EmptyInputThrows) {
  RecordEncoder encoder(model::Dataset::cpe, "contoso");
  std::string copy;
  GzipNdjsonStream st(encoder, "f", copy);
  EXPECT_THROW(st.finish(), codec::GzipError);
}

TEST(GzipNdjsonStream, NotGzipThrows) {
  EXPECT_THROW(stream(read_fixture("cpe_records.ndjson")), codec::GzipError);
}

}  // namespace
}  // namespace mdesync::parse
