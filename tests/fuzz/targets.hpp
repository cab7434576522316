#pragma once
// The fuzz targets as plain functions, so that the libFuzzer binaries
// (fuzzer_main.cpp, clang) and the replay test (tests/unit/fuzz_regressions, gcc)
// run exactly the same code on every corpus and crasher file.
//
// A target returns normally for any input the product handles as documented:
// stored, rejected with a reason, or refused with the documented exception.
// Anything else escapes: a sanitizer report, an undocumented exception, or
// InvariantBroken when an output breaks a promise made in the headers.
#include <stdexcept>
#include <string>
#include <string_view>

namespace mdesync::fuzz {

// Never caught by a target: libFuzzer reports it as a crash (uncaught exception),
// the replay test as a failure naming the input file.
class InvariantBroken : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// parse_page for both data sets, parse_api_error and parse_export_response.
void page(std::string_view input);
// PageStream fed in input-derived chunks must give parse_page's result
// (page_stream.hpp); both data sets. Its seeds are the page target's.
void page_stream(std::string_view input);
// NdjsonReader fed whole and in input-derived chunks, and GzipNdjsonStream fed
// the input gzip-compressed (whole, in chunks, truncated) and as raw bytes.
void ndjson(std::string_view input);
// config::load_string.
void config(std::string_view input);
// A token endpoint's body: FlatJson against simdjson On-Demand, read_token_grant
// and token_error for the statuses that carry a body.
void token(std::string_view input);

}  // namespace mdesync::fuzz
