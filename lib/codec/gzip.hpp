#pragma once
// Streaming gzip inflate: compressed bytes in, inflated chunks out, as they arrive.
// A stream that stops before its trailer, or holds corrupt data, is an error,
// never silently short data.
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace mdesync::codec {

class GzipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GzipInflater {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit GzipInflater(Sink sink, std::size_t chunk_size = 256 * 1024);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // Inflates `compressed`, passing output to the sink; concatenated gzip members are accepted.
  void feed(std::string_view compressed);
  // Throws GzipError when the input ended inside a member (truncated) or held no member at all.
  void finish();

  std::uint64_t bytes_in() const { return bytes_in_; }
  std::uint64_t bytes_out() const { return bytes_out_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  Sink sink_;
  std::uint64_t bytes_in_ = 0;
  std::uint64_t bytes_out_ = 0;
};

}  // namespace mdesync::codec
