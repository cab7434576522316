#include "gzip_writer.hpp"

#include <zlib.h>

#include <algorithm>
#include <stdexcept>

namespace mdesync::fakeapi {

struct GzipWriter::State {
  z_stream z{};
};

GzipWriter::GzipWriter(int level) : state_(new State) {
  // windowBits 15 + 16 selects the gzip wrapper.
  if (deflateInit2(&state_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    delete state_;
    throw std::runtime_error("deflateInit2 failed");
  }
}

GzipWriter::~GzipWriter() {
  deflateEnd(&state_->z);
  delete state_;
}

void GzipWriter::write(std::string_view data) {
  auto& z = state_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  // zlib counts in uInt; feed in slices below 4 GiB.
  std::size_t left = data.size();
  while (left > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(left, 1u << 30));
    z.avail_in = chunk;
    while (z.avail_in > 0) {
      const std::size_t before = out_.size();
      const std::size_t room = deflateBound(&z, z.avail_in) + 64;
      out_.resize(before + room);
      z.next_out = reinterpret_cast<Bytef*>(out_.data() + before);
      z.avail_out = static_cast<uInt>(room);
      if (deflate(&z, Z_NO_FLUSH) == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
      out_.resize(before + room - z.avail_out);
    }
    left -= chunk;
  }
}

std::string GzipWriter::finish() {
  auto& z = state_->z;
  z.avail_in = 0;
  int rc;
  do {
    const std::size_t before = out_.size();
    out_.resize(before + 4096);
    z.next_out = reinterpret_cast<Bytef*>(out_.data() + before);
    z.avail_out = 4096;
    rc = deflate(&z, Z_FINISH);
    out_.resize(before + 4096 - z.avail_out);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
  } while (rc != Z_STREAM_END);
  return std::move(out_);
}

std::string gzip_compress(std::string_view data, int level) {
  GzipWriter w(level);
  w.reserve(data.size() / 6);
  w.write(data);
  return w.finish();
}

}  // namespace mdesync::fakeapi
