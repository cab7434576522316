#pragma once
// Export files: multiline JSON, one record per line, arriving in arbitrary chunks.
//
// Invariants:
// - Memory is bounded by the longest line: only the unfinished last line is kept
//   between feed() calls, and a line longer than max_line_bytes is dropped (and
//   counted as rejected) without being buffered.
// - A bad line is a rejection of that line, never an error for the file.
#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "parse/record_encoder.hpp"
#include "parse/rejection.hpp"

namespace mdesync::parse {

inline constexpr std::size_t max_line_bytes = 16 * 1024 * 1024;
// Rejections beyond this many are counted but their details dropped.
inline constexpr std::size_t max_rejection_details = 1000;

class NdjsonReader {
 public:
  // `name` prefixes every rejection reason ("file.json.gz line 12: missing deviceId").
  // Stored records are appended to `copy_out`, which must outlive the reader.
  NdjsonReader(RecordEncoder& encoder, std::string name, std::string& copy_out);

  // Takes the next inflated bytes; a line may be split anywhere across calls.
  // LF and CRLF line ends are accepted; blank lines are skipped.
  void feed(std::string_view bytes);
  // Handles a last line that has no newline. Call once, after the last feed().
  void finish();

  std::size_t rows() const { return rows_; }
  std::size_t rejected() const { return rejected_; }
  std::size_t lines() const { return line_no_; }
  // The first max_rejection_details rejections; index is the 1-based line number.
  const std::vector<Rejection>& rejections() const { return rejections_; }
  // The first max_alteration_details records stored altered; index is the line number.
  const std::vector<Rejection>& alterations() const { return alterations_; }

 private:
  void take_line(std::string_view line);
  void reject(std::string_view problem, std::string_view detail = {});

  RecordEncoder& encoder_;
  std::string name_;
  std::string& out_;
  simdjson::ondemand::parser parser_;
  std::string partial_;   // a line whose newline has not arrived yet
  bool overlong_ = false; // the current line passed max_line_bytes; its bytes are being dropped
  std::string padded_;    // the line being parsed, followed by SIMDJSON_PADDING spaces
  std::size_t line_no_ = 0;
  std::size_t rows_ = 0;
  std::size_t rejected_ = 0;
  std::vector<Rejection> rejections_;
  std::vector<Rejection> alterations_;
};

}  // namespace mdesync::parse
