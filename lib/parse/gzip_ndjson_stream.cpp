#include "parse/gzip_ndjson_stream.hpp"

namespace mdesync::parse {

GzipNdjsonStream::GzipNdjsonStream(RecordEncoder& encoder, std::string name, std::string& copy_out)
    : reader_(encoder, std::move(name), copy_out),
      inflater_([this](std::string_view inflated) { reader_.feed(inflated); }) {}

void GzipNdjsonStream::feed(std::string_view compressed) { inflater_.feed(compressed); }

void GzipNdjsonStream::finish() {
  inflater_.finish();
  reader_.finish();
}

UnitSummary GzipNdjsonStream::end() {
  finish();
  return {reader_.rows(), reader_.rejected(), reader_.rejections(), reader_.alterations(), std::nullopt};
}

}  // namespace mdesync::parse
