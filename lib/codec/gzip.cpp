#include "codec/gzip.hpp"

#include <zlib.h>

#include <string>
#include <vector>

namespace mdesync::codec {

struct GzipInflater::State {
  z_stream zs{};
  std::vector<unsigned char> out;
  bool in_member = false;   // inside a member whose end we have not seen
  bool saw_member = false;  // at least one member completed
};

GzipInflater::GzipInflater(Sink sink, std::size_t chunk_size) : state_(std::make_unique<State>()), sink_(std::move(sink)) {
  state_->out.resize(chunk_size);
  // 16 + MAX_WBITS: gzip wrapper only; a zlib or raw stream is not what the API sends.
  if (inflateInit2(&state_->zs, 16 + MAX_WBITS) != Z_OK) throw GzipError("gzip: cannot initialise zlib");
}

GzipInflater::~GzipInflater() { inflateEnd(&state_->zs); }

void GzipInflater::feed(std::string_view compressed) {
  auto& s = *state_;
  bytes_in_ += compressed.size();
  s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  s.zs.avail_in = static_cast<uInt>(compressed.size());
  while (s.zs.avail_in > 0) {
    s.in_member = true;
    s.zs.next_out = s.out.data();
    s.zs.avail_out = static_cast<uInt>(s.out.size());
    const int rc = inflate(&s.zs, Z_NO_FLUSH);
    const std::size_t produced = s.out.size() - s.zs.avail_out;
    if (produced > 0) {
      bytes_out_ += produced;
      sink_(std::string_view(reinterpret_cast<const char*>(s.out.data()), produced));
    }
    if (rc == Z_STREAM_END) {
      s.in_member = false;
      s.saw_member = true;
      // Another member may follow (concatenated gzip files are valid gzip).
      if (inflateReset(&s.zs) != Z_OK) throw GzipError("gzip: cannot reset zlib");
      continue;
    }
    if (rc == Z_BUF_ERROR && produced == 0) break;
    if (rc != Z_OK) {
      throw GzipError(std::string("gzip: corrupt data after ") + std::to_string(bytes_in_ - s.zs.avail_in) +
                      " compressed bytes: " + (s.zs.msg ? s.zs.msg : "inflate error"));
    }
  }
}

void GzipInflater::finish() {
  const auto& s = *state_;
  if (s.in_member)
    throw GzipError("gzip: stream truncated after " + std::to_string(bytes_in_) +
                    " compressed bytes (member has no end)");
  if (!s.saw_member) throw GzipError("gzip: empty stream (no gzip member)");
}

}  // namespace mdesync::codec
