#pragma once
// A JSON page parsed while its bytes arrive, so the caller can COPY the first
// records while the rest of the page is still downloading.
//
// Invariants:
// - Memory is bounded by the largest single record, not by the page: a byte-level
//   scanner cuts `value` into its elements; complete ones are parsed by the end
//   of the feed() that completed them (at most page_batch_bytes wait), and only
//   the unfinished element and the bytes outside `value` (the envelope) are kept
//   between feed() calls, each at most max_page_record_bytes.
// - The result (COPY lines, rows, rejections, next link, context) is the one
//   parse_page gives for the same bytes, however they are split: every element
//   reaches RecordEncoder::encode(ondemand::value) as an array element, as
//   there, and the envelope, with `value` emptied, goes through parse_page itself.
// - No pointer or offset into `copy_out` is kept: the caller may flush (clear)
//   it between feed() calls.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parse/page.hpp"
#include "parse/record_encoder.hpp"
#include "parse/record_stream.hpp"

namespace mdesync::parse {

inline constexpr std::size_t max_page_record_bytes = 16 * 1024 * 1024;
// Complete records are parsed together at the end of every feed(), or sooner once
// this many bytes of them wait: one simdjson document per batch, not per record.
inline constexpr std::size_t page_batch_bytes = 256 * 1024;

class PageStream : public RecordStream {
 public:
  // Stored records are appended to `copy_out`, all of a chunk's complete records
  // before feed() returns; both must outlive the stream.
  PageStream(RecordEncoder& encoder, std::string& copy_out);
  PageStream(const PageStream&) = delete;
  PageStream& operator=(const PageStream&) = delete;

  // Takes the next bytes of the body, split anywhere. Throws PageError as soon
  // as the body cannot be a page: it does not start with `{`, `value` is not an
  // array or comes twice, a record is broken JSON or larger than
  // max_page_record_bytes, or something follows the page object. After a
  // PageError `copy_out` holds part of the page (the caller discards it with
  // its transaction) and the stream only throws.
  void feed(std::string_view bytes) override;
  // Ends the body, once, after the last feed(). Throws PageError when the body
  // was empty or truncated, or what lies outside `value` is not what parse_page
  // accepts (no `value`, a nextLink that is not a string, broken keys).
  PageResult finish();
  // finish(), as a RecordStream.
  UnitSummary end() override;

 private:
  enum class State {
    before_page,     // whitespace before the page's `{`
    envelope,        // in the page object, outside `value`'s elements
    value_open,      // after `"value":`, before its `[`
    before_element,  // in `value`, before an element or its `]`
    element,         // in an element of `value`
    after_page,      // after the page's `}`: only whitespace may follow
    closed,          // a PageError was thrown or finish() returned
  };

  const char* start_page(const char* p, const char* end);
  const char* scan_envelope(const char* p, const char* end);
  const char* open_value(const char* p, const char* end);
  const char* next_element(const char* p, const char* end);
  const char* scan_element(const char* p, const char* end);
  const char* end_of_page(const char* p, const char* end);
  // Past the rest of the string being read: to the byte after its closing quote,
  // or to `end` with in_string_ (and maybe escaped_) still set.
  const char* skip_string(const char* p, const char* end);

  void append_envelope(const char* from, const char* to);
  void append_element(const char* from, const char* to);
  void end_element();
  void parse_batch();
  void end_value(const char* bracket);
  void key_ended();
  bool is_value_key(std::string_view key);
  bool pop_nesting(char close);

  std::uint64_t offset(const char* p) const { return chunk_offset_ + static_cast<std::uint64_t>(p - chunk_); }
  [[noreturn]] void fail(std::string message);
  // `what: record N: detail at byte M`, as parse_page words it; `doc`, once
  // opened, says where simdjson stopped, else the batch's first byte is named.
  [[noreturn]] void fail_batch(std::string_view what, std::string_view detail, simdjson::ondemand::document* doc);
  std::pair<std::size_t, std::uint64_t> locate(std::size_t batch_at) const;
  std::size_t scanning_index() const { return index_ + batch_records_; }
  std::string with_page_offsets(std::string message) const;

  RecordEncoder& encoder_;
  std::string& out_;
  simdjson::ondemand::parser parser_;
  State state_ = State::before_page;
  PageResult result_;

  const char* chunk_ = nullptr;      // the bytes of the current feed()
  std::uint64_t chunk_offset_ = 0;   // their position in the body

  // The lexer, carried across chunk boundaries.
  bool in_string_ = false;
  bool escaped_ = false;     // the next byte is escaped: the string's last byte was an escaping backslash
  std::string nesting_;      // open brackets: the page's `{` and what is inside it, or an element's own

  // The envelope: the body with the elements of `value` cut out, offsets equal
  // to the body's up to the cut.
  std::string envelope_;
  std::size_t key_start_ = 0;       // envelope offset of the opening quote of the key being read
  bool reading_key_ = false;
  bool expect_key_ = false;         // the next string at page level is a key
  bool value_key_ = false;          // the last key read was `value`
  bool saw_value_ = false;
  std::uint64_t cut_at_ = 0;        // envelope offset just after `value`'s `[`
  std::uint64_t cut_bytes_ = 0;     // body bytes cut out there

  // Records wait in batch_, copied out of the chunks, until they are parsed.
  struct Start {
    std::size_t at;        // in batch_
    std::uint64_t offset;  // in the body
  };
  std::string batch_ = "[";
  std::vector<Start> starts_;       // one per record in batch_, complete or not
  std::size_t batch_records_ = 0;   // complete records in batch_
  std::size_t batch_complete_ = 1;  // batch_'s size up to the end of the last complete record
  std::string tail_;                // an unfinished record, set aside while the batch is parsed
  std::size_t index_ = 0;           // position in `value` of the next record to encode
  std::size_t batch_first_ = 0;     // position in `value` of batch_'s first record
  bool need_element_ = false;       // after a `,`: `]` would be a trailing comma
};

}  // namespace mdesync::parse
