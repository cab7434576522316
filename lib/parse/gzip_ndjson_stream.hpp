#pragma once
// The download path in one object: gzip-compressed export file bytes in, COPY
// lines out (codec::GzipInflater feeding an NdjsonReader).
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/gzip.hpp"
#include "parse/ndjson.hpp"
#include "parse/record_stream.hpp"

namespace mdesync::parse {

class GzipNdjsonStream : public RecordStream {
 public:
  GzipNdjsonStream(RecordEncoder& encoder, std::string name, std::string& copy_out);
  // The inflater's sink points at reader_; the object must stay where it is.
  GzipNdjsonStream(const GzipNdjsonStream&) = delete;
  GzipNdjsonStream& operator=(const GzipNdjsonStream&) = delete;

  // Throws codec::GzipError on corrupt data.
  void feed(std::string_view compressed) override;
  // Throws codec::GzipError when the stream was truncated or empty; the
  // unfinished last line of a truncated stream is not parsed.
  void finish();
  // finish(), as a RecordStream: the reader's counts.
  UnitSummary end() override;

  const NdjsonReader& reader() const { return reader_; }
  std::uint64_t compressed_bytes() const { return inflater_.bytes_in(); }
  std::uint64_t inflated_bytes() const { return inflater_.bytes_out(); }

 private:
  NdjsonReader reader_;  // declared first: the inflater's sink uses it
  codec::GzipInflater inflater_;
};

}  // namespace mdesync::parse
