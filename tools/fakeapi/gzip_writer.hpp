#pragma once
// gzip (RFC 1952) compression with zlib, for Content-Encoding: gzip responses and the
// export files. lib/codec only inflates; the simulator is the one thing that deflates.
#include <string>
#include <string_view>

namespace mdesync::fakeapi {

// Level 1: a 100 MB page compresses in well under a second and still shrinks ~10x.
std::string gzip_compress(std::string_view data, int level = 1);

// Incremental form for building export files line by line.
class GzipWriter {
 public:
  explicit GzipWriter(int level = 1);
  ~GzipWriter();
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  void reserve(std::size_t bytes) { out_.reserve(bytes); }
  void write(std::string_view data);
  // Flushes the trailer and returns the complete member.
  std::string finish();

 private:
  struct State;
  State* state_;
  std::string out_;
};

}  // namespace mdesync::fakeapi
