// Target 2: export file contents, plain (NdjsonReader) and gzip-compressed
// (GzipNdjsonStream), fed in chunks that split lines and gzip members anywhere.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "codec/gzip.hpp"
#include "invariants.hpp"
#include "parse/gzip_ndjson_stream.hpp"
#include "parse/ndjson.hpp"
#include "splitter.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

constexpr std::string_view file_name = "part-00000.json.gz";

struct Outcome {
  std::string copy;
  std::size_t rows = 0, rejected = 0, lines = 0;
  std::vector<parse::Rejection> rejections;

  void take(const parse::NdjsonReader& reader) {
    rows = reader.rows();
    rejected = reader.rejected();
    lines = reader.lines();
    rejections = reader.rejections();
  }
  bool operator==(const Outcome& o) const {
    if (copy != o.copy || rows != o.rows || rejected != o.rejected || lines != o.lines ||
        rejections.size() != o.rejections.size())
      return false;
    for (std::size_t i = 0; i < rejections.size(); ++i)
      if (rejections[i].index != o.rejections[i].index || rejections[i].reason != o.rejections[i].reason) return false;
    return true;
  }
};

// A small window and memLevel 1: valid gzip for any inflater, and a few KB of zlib
// state instead of ~300 KB per call, which kept the fuzzer in mmap.
std::string gzip(std::string_view data) {
  z_stream zs{};
  check(deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + 9, 1, Z_DEFAULT_STRATEGY) == Z_OK, "deflateInit2");
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  check(rc == Z_STREAM_END, "deflate did not finish");
  return out;
}

Outcome read_plain(model::Dataset dataset, std::string_view data, Splitter* split) {
  parse::RecordEncoder encoder(dataset, "fuzz");
  Outcome o;
  parse::NdjsonReader reader(encoder, std::string(file_name), o.copy);
  if (split) {
    in_chunks(data, *split, [&](std::string_view piece) { reader.feed(piece); });
  } else {
    reader.feed(data);
  }
  reader.finish();
  o.take(reader);
  return o;
}

Outcome read_gzip(model::Dataset dataset, std::string_view compressed, Splitter& split) {
  parse::RecordEncoder encoder(dataset, "fuzz");
  Outcome o;
  parse::GzipNdjsonStream stream(encoder, std::string(file_name), o.copy);
  in_chunks(compressed, split, [&](std::string_view piece) { stream.feed(piece); });
  stream.finish();
  o.take(stream.reader());
  return o;
}

// GzipNdjsonStream's parts with an output buffer of a few bytes, so one feed()
// fills it many times over.
Outcome read_gzip_small_buffer(model::Dataset dataset, std::string_view compressed, Splitter& split) {
  parse::RecordEncoder encoder(dataset, "fuzz");
  Outcome o;
  parse::NdjsonReader reader(encoder, std::string(file_name), o.copy);
  codec::GzipInflater inflater([&](std::string_view inflated) { reader.feed(inflated); }, 1 + split.next() % 64);
  in_chunks(compressed, split, [&](std::string_view piece) { inflater.feed(piece); });
  inflater.finish();
  reader.finish();
  o.take(reader);
  return o;
}

void check_outcome(const Outcome& o, model::Dataset dataset) {
  check_copy_lines(o.copy, dataset, o.rows);
  check(o.rejected >= o.rejections.size(), "more rejection details than rejections");
  check(o.rows + o.rejected <= o.lines, "more records than lines");
  for (const auto& r : o.rejections) check_log_safe(r.reason, "rejection reason");
}

}  // namespace

void ndjson(std::string_view input) {
  Splitter split(input);
  const auto dataset = split.next() & 1 ? model::Dataset::cpe : model::Dataset::noncpe;

  const Outcome whole = read_plain(dataset, input, nullptr);
  check_outcome(whole, dataset);
  check(read_plain(dataset, input, &split) == whole, "NdjsonReader result depends on how the bytes were split");

  // Two gzip members split at an input-chosen byte: members may end mid-line.
  const std::size_t cut = input.empty() ? 0 : split.next() % (input.size() + 1);
  const std::string two_members = gzip(input.substr(0, cut)) + gzip(input.substr(cut));
  // GzipNdjsonStream zero-fills a 256 KB buffer per construction, which took half
  // of the fuzzer's time; every fourth input goes through it, the rest through
  // the same parts with a tiny buffer.
  if (split.next() % 4 == 0) {
    check(read_gzip(dataset, two_members, split) == whole, "GzipNdjsonStream result differs from the plain reader");
  } else {
    check(read_gzip_small_buffer(dataset, two_members, split) == whole, "gzip members change the result");
  }

  // A file that stops early is an error, never silently short data (codec/gzip.hpp).
  const std::string member = gzip(input);
  const std::size_t kept = split.next() % member.size();
  check(read_gzip_small_buffer(dataset, member, split) == whole, "a small inflate buffer changes the result");
  try {
    (void)read_gzip_small_buffer(dataset, std::string_view(member).substr(0, kept), split);
    throw InvariantBroken("a gzip stream truncated to " + std::to_string(kept) + " of " +
                          std::to_string(member.size()) + " bytes was accepted");
  } catch (const codec::GzipError& e) {
    check_log_safe(e.what(), "GzipError message");
  }

  // The input itself as compressed bytes: corrupt gzip must be a GzipError.
  try {
    check_outcome(read_gzip_small_buffer(dataset, input, split), dataset);
  } catch (const codec::GzipError& e) {
    check_log_safe(e.what(), "GzipError message");
  }
}

}  // namespace mdesync::fuzz
