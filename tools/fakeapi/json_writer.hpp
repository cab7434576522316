#pragma once
// Hand-written JSON output into a caller-owned std::string. Pages of 200,000 records
// (~100 MB) are written with these functions, so they append in runs and never build
// temporaries. Every string goes through append_json_string: the invariant is that no
// byte below 0x20, no '"' and no '\\' ever reaches the output unescaped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::fakeapi::json {

// Appends `s` as a quoted JSON string. Control characters become \u00XX; UTF-8 passes through.
void append_string(std::string& out, std::string_view s);
void append_int(std::string& out, std::int64_t v);
void append_uint(std::string& out, std::uint64_t v);

// A small structural writer for the admin and error documents, where convenience
// matters more than speed. It inserts commas itself.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view v);
  Writer& value(const char* v) { return value(std::string_view(v)); }
  Writer& value(std::int64_t v);
  Writer& value(std::uint64_t v);
  Writer& value(int v) { return value(static_cast<std::int64_t>(v)); }
  Writer& value(unsigned v) { return value(static_cast<std::uint64_t>(v)); }
  Writer& value(bool v);
  Writer& value(double v);
  Writer& null();
  // Inserts already-serialized JSON as one value.
  Writer& raw(std::string_view json);

  template <typename V>
  Writer& field(std::string_view k, V&& v) {
    key(k);
    return value(std::forward<V>(v));
  }

 private:
  void before_value();
  std::string& out_;
  // One entry per open container: true once it holds an element (a comma is due).
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

}  // namespace mdesync::fakeapi::json
