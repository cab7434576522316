#include "parse/page_stream.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/quote.hpp"

namespace mdesync::parse {
namespace {

namespace od = simdjson::ondemand;

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

const char* skip_space(const char* p, const char* end) {
  while (p < end && is_space(*p)) ++p;
  return p;
}

// The scanner's view of 64 bytes: one bit per byte.
struct Block {
  std::uint64_t quotes = 0, backslashes = 0, structurals = 0;  // structurals: { } [ ] ,
};

// Records are mostly string bytes; classifying 64 of them at once, without a
// branch per byte or per string, keeps the scanner far cheaper than the parse.
Block classify(const char* p) {
  Block b;
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), comma = _mm_set1_epi8(',');
  const __m128i lower = _mm_set1_epi8(0x20), open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
  for (int i = 0; i < 4; ++i) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    const __m128i folded = _mm_or_si128(bytes, lower);  // `[` -> `{`, `]` -> `}`
    const __m128i brackets = _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close));
    const auto bits = [&](__m128i hits) {
      return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(hits))) << (16 * i);
    };
    b.quotes |= bits(_mm_cmpeq_epi8(bytes, quote));
    b.backslashes |= bits(_mm_cmpeq_epi8(bytes, backslash));
    b.structurals |= bits(_mm_or_si128(brackets, _mm_cmpeq_epi8(bytes, comma)));
  }
#else
  for (int i = 0; i < 64; ++i) {
    const char c = p[i];
    const std::uint64_t bit = std::uint64_t{1} << i;
    if (c == '"') b.quotes |= bit;
    else if (c == '\\') b.backslashes |= bit;
    else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',') b.structurals |= bit;
  }
#endif
  return b;
}

// Bits of the bytes a backslash escapes, given whether the block's first byte is
// escaped; `escape_out` gets the backslashes that escape something. A run of
// backslashes escapes every other byte, so this is simdjson's odd-run trick:
// a subtraction finds where each run starting at an even or odd bit ends.
std::uint64_t escaped_bits(std::uint64_t backslashes, std::uint64_t first_escaped, std::uint64_t& escape_out) {
  constexpr std::uint64_t odd_bits = 0xAAAAAAAAAAAAAAAAULL;
  const std::uint64_t potential = backslashes & ~first_escaped;
  const std::uint64_t code = (((potential << 1) | odd_bits) - potential) ^ odd_bits;
  escape_out = code & backslashes;
  return code ^ (backslashes | first_escaped);
}

// Bit i: an odd number of the bits 0..i are set, i.e. byte i is inside a string
// when `quotes` are the string delimiters.
std::uint64_t prefix_xor(std::uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

std::string mib(std::size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

}  // namespace

PageStream::PageStream(RecordEncoder& encoder, std::string& copy_out) : encoder_(encoder), out_(copy_out) {}

void PageStream::feed(std::string_view bytes) {
  if (state_ == State::closed) throw PageError("page stream fed after it failed or finished");
  chunk_ = bytes.data();
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  // Every step consumes at least one byte or moves to a state that will.
  while (p < end) {
    switch (state_) {
      case State::before_page: p = start_page(p, end); break;
      case State::envelope: p = scan_envelope(p, end); break;
      case State::value_open: p = open_value(p, end); break;
      case State::before_element: p = next_element(p, end); break;
      case State::element: p = scan_element(p, end); break;
      case State::after_page: p = end_of_page(p, end); break;
      case State::closed: return;  // fail() throws before getting here
    }
  }
  // The caller flushes COPY text between feed() calls: give it this chunk's records.
  parse_batch();
  chunk_offset_ += bytes.size();
}

PageResult PageStream::finish() {
  switch (state_) {
    case State::after_page: break;
    case State::closed: throw PageError("page stream finished after it failed or finished");
    case State::before_page: fail(std::string("page is not JSON: ") + simdjson::error_message(simdjson::EMPTY));
    case State::element:
      fail("page is not JSON: truncated after " + std::to_string(chunk_offset_) + " bytes, in record " +
           std::to_string(scanning_index()));
    default: fail("page is not JSON: truncated after " + std::to_string(chunk_offset_) + " bytes");
  }
  // The envelope is the page with `value` emptied: parse_page gives its keys the
  // meaning they have for a whole page (escaped names, null nextLink, repeats).
  const std::size_t size = envelope_.size();
  envelope_.append(simdjson::SIMDJSON_PADDING, ' ');
  std::string no_rows;
  PageResult envelope;
  try {
    envelope = parse_page(encoder_, parser_, simdjson::padded_string_view(envelope_.data(), size, envelope_.size()),
                          no_rows);
  } catch (const PageError& e) {
    fail(with_page_offsets(e.what()));
  }
  state_ = State::closed;
  result_.next_link = std::move(envelope.next_link);
  result_.context = std::move(envelope.context);
  return std::move(result_);
}

UnitSummary PageStream::end() {
  PageResult page = finish();
  UnitSummary out;
  out.rows = page.rows;
  out.rejected = page.rejected.size();
  out.rejections = std::move(page.rejected);
  out.alterations = std::move(page.altered);
  out.next_link = std::move(page.next_link);
  return out;
}

const char* PageStream::start_page(const char* p, const char* end) {
  const char* q = skip_space(p, end);
  append_envelope(p, q);  // kept so that envelope offsets are body offsets up to the cut
  if (q == end) return q;
  if (*q != '{') {
    // Typically an HTML error page from a proxy: say so now, not after the whole body.
    std::string msg = "page is not a JSON object: starts with ";
    append_quoted(msg, std::string_view(q, static_cast<std::size_t>(end - q)));
    fail(std::move(msg));
  }
  append_envelope(q, q + 1);
  nesting_.assign(1, '{');
  expect_key_ = true;
  state_ = State::envelope;
  return q + 1;
}

// Keeps what it reads in the envelope, watching the page object's own keys for
// `value`, whose `:` hands over to open_value().
const char* PageStream::scan_envelope(const char* p, const char* end) {
  const char* from = p;
  while (p < end) {
    if (in_string_) {
      p = skip_string(p, end);
      if (!in_string_ && reading_key_) {
        append_envelope(from, p);
        from = p;
        key_ended();
      }
      continue;
    }
    const bool page_level = nesting_.size() == 1;
    switch (const char c = *p) {
      case '"':
        in_string_ = true;
        if (page_level && expect_key_) {
          reading_key_ = true;
          expect_key_ = false;
          key_start_ = envelope_.size() + static_cast<std::size_t>(p - from);
        }
        break;
      case '{':
      case '[': nesting_.push_back(c); break;
      case '}':
      case ']':
        if (!pop_nesting(c))
          fail(std::string("page is not valid JSON: unmatched '") + c + "' at byte " + std::to_string(offset(p)));
        if (nesting_.empty()) {
          append_envelope(from, p + 1);
          state_ = State::after_page;
          return p + 1;
        }
        break;
      case ',':
        if (page_level) {
          expect_key_ = true;
          value_key_ = false;
        }
        break;
      case ':':
        if (page_level && value_key_) {
          append_envelope(from, p + 1);
          value_key_ = false;
          state_ = State::value_open;
          return p + 1;
        }
        break;
      default: break;
    }
    ++p;
  }
  append_envelope(from, p);
  return p;
}

void PageStream::key_ended() {
  reading_key_ = false;
  // The key without its quotes: the closing one is the last envelope byte.
  const std::string_view key(envelope_.data() + key_start_ + 1, envelope_.size() - key_start_ - 2);
  value_key_ = is_value_key(key);
  // A second `value` lies past the cut of the first.
  if (value_key_ && saw_value_)
    fail("page has two \"value\" arrays at byte " + std::to_string(key_start_ + cut_bytes_));
}

bool PageStream::is_value_key(std::string_view key) {
  if (key == "value") return true;
  if (key.find('\\') == std::string_view::npos) return false;
  // parse_page compares unescaped keys: "valu\u0065" is `value` too.
  std::string json;
  json.reserve(key.size() + 2 + simdjson::SIMDJSON_PADDING);
  json.append(1, '"').append(key).append(1, '"');
  const std::size_t size = json.size();
  json.append(simdjson::SIMDJSON_PADDING, ' ');
  od::document doc;
  std::string_view unescaped;
  return !parser_.iterate(simdjson::padded_string_view(json.data(), size, json.size())).get(doc) &&
         !doc.get_string().get(unescaped) && unescaped == "value";
}

const char* PageStream::open_value(const char* p, const char* end) {
  const char* q = skip_space(p, end);
  append_envelope(p, q);
  if (q == end) return q;
  if (*q != '[') fail("page \"value\" is not an array at byte " + std::to_string(offset(q)));
  append_envelope(q, q + 1);
  saw_value_ = true;
  cut_at_ = envelope_.size();
  need_element_ = false;
  state_ = State::before_element;
  return q + 1;
}

const char* PageStream::next_element(const char* p, const char* end) {
  p = skip_space(p, end);
  if (p == end) return p;
  if (*p == ']' && !need_element_) {
    end_value(p);
    return p + 1;
  }
  if (*p == ']' || *p == ',')
    fail("page is not valid JSON: record " + std::to_string(scanning_index()) + " is missing at byte " +
         std::to_string(offset(p)));
  if (batch_records_ > 0) batch_.push_back(',');
  starts_.push_back({batch_.size(), offset(p)});
  nesting_.clear();
  state_ = State::element;
  return p;
}

// Finds where the element ends: a `,` or `]` outside strings and brackets.
const char* PageStream::scan_element(const char* p, const char* end) {
  const char* const from = p;
  alignas(16) char last[64];
  while (p < end) {
    // Every full block is read in place; the chunk's last bytes are copied so
    // that no read passes `end`, and the spaces after them are never structural.
    const auto n = static_cast<std::size_t>(std::min<std::ptrdiff_t>(end - p, 64));
    const char* bytes = p;
    if (n < 64) {
      std::memset(last, ' ', sizeof last);
      std::memcpy(last, p, n);
      bytes = last;
    }
    const Block b = classify(bytes);
    std::uint64_t escape = 0;
    const std::uint64_t escaped = b.backslashes ? escaped_bits(b.backslashes, escaped_, escape) : escaped_;
    const std::uint64_t in_string = prefix_xor(b.quotes & ~escaped) ^ (in_string_ ? ~std::uint64_t{0} : 0);
    for (std::uint64_t s = b.structurals & ~in_string; s != 0; s &= s - 1) {
      const int i = std::countr_zero(s);
      switch (const char c = bytes[i]) {
        case '{':
        case '[': nesting_.push_back(c); break;
        case ',':
          if (!nesting_.empty()) break;
          append_element(from, p + i);
          end_element();
          need_element_ = true;
          state_ = State::before_element;
          in_string_ = escaped_ = false;  // a structural byte is outside strings
          return p + i + 1;
        default:  // '}' or ']'
          if (!nesting_.empty()) {
            if (!pop_nesting(c))
              fail("page is not valid JSON: record " + std::to_string(scanning_index()) + ": unmatched '" + c +
                   "' at byte " + std::to_string(offset(p + i)));
            break;
          }
          if (c == '}')
            fail("page is not valid JSON: unmatched '}' in \"value\" at byte " + std::to_string(offset(p + i)));
          append_element(from, p + i);
          end_element();
          parse_batch();
          end_value(p + i);
          in_string_ = escaped_ = false;
          return p + i + 1;
      }
    }
    // The state after the block's last real byte carries into the next block.
    in_string_ = (in_string >> (n - 1)) & 1;
    escaped_ = (escape >> (n - 1)) & 1;
    p += n;
  }
  append_element(from, p);
  return p;
}

const char* PageStream::skip_string(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (escaped_) {
      escaped_ = false;  // the escaped byte: even `"` does not end the string
    } else if (*p == '\\') {
      escaped_ = true;
    } else if (*p == '"') {
      in_string_ = false;
      return p + 1;
    }
  }
  return end;
}

const char* PageStream::end_of_page(const char* p, const char* end) {
  const char* q = skip_space(p, end);
  if (q != end) fail("trailing content after the page object at byte " + std::to_string(offset(q)));
  return q;
}

void PageStream::end_value(const char* bracket) {
  cut_bytes_ = offset(bracket) - cut_at_;
  envelope_.push_back(']');
  nesting_.assign(1, '{');
  state_ = State::envelope;
}

bool PageStream::pop_nesting(char close) {
  if (nesting_.empty() || nesting_.back() != (close == '}' ? '{' : '[')) return false;
  nesting_.pop_back();
  return true;
}

void PageStream::append_envelope(const char* from, const char* to) {
  const auto n = static_cast<std::size_t>(to - from);
  if (envelope_.size() + n > max_page_record_bytes)
    fail("page has more than " + mib(max_page_record_bytes) + " outside its \"value\" array");
  envelope_.append(from, n);
}

void PageStream::append_element(const char* from, const char* to) {
  const auto n = static_cast<std::size_t>(to - from);
  if (batch_.size() - starts_.back().at + n > max_page_record_bytes)
    fail("page record " + std::to_string(scanning_index()) + " at byte " + std::to_string(starts_.back().offset) +
         " is larger than " + mib(max_page_record_bytes));
  batch_.append(from, n);
}

void PageStream::end_element() {
  ++batch_records_;
  batch_complete_ = batch_.size();
  if (batch_complete_ >= page_batch_bytes) parse_batch();
}

// batch_ is `[` + the complete records, `,` between them, then maybe `,` and
// the start of an unfinished one. The records are parsed as one array: as array
// elements they reach the encoder exactly as in parse_page, scalars and all,
// and one simdjson document per batch costs far less than one per record.
void PageStream::parse_batch() {
  if (batch_records_ == 0) return;
  const bool unfinished = batch_.size() > batch_complete_;
  const Start unfinished_start = starts_.back();
  if (unfinished) tail_.assign(batch_, batch_complete_ + 1);
  batch_.resize(batch_complete_);
  batch_.push_back(']');
  const std::size_t size = batch_.size();
  batch_.append(simdjson::SIMDJSON_PADDING, ' ');
  batch_first_ = index_;
  od::document doc;
  od::array records;
  if (const auto err = parser_.iterate(simdjson::padded_string_view(batch_.data(), size, batch_.size())).get(doc))
    fail_batch("page is not JSON", simdjson::error_message(err), nullptr);
  if (const auto err = doc.get_array().get(records))
    fail_batch("page is not valid JSON", simdjson::error_message(err), &doc);
  std::size_t seen = 0;
  for (auto element : records) {
    od::value record;
    if (const auto err = std::move(element).get(record))
      fail_batch("page is not valid JSON", simdjson::error_message(err), &doc);
    switch (encoder_.encode(record, out_)) {
      case Verdict::stored:
        ++result_.rows;
        if (!encoder_.alteration().empty() && result_.altered.size() < max_alteration_details)
          result_.altered.push_back({index_, encoder_.alteration()});
        break;
      case Verdict::rejected: result_.rejected.push_back({index_, encoder_.reason()}); break;
      case Verdict::malformed: fail_batch("page is not valid JSON", encoder_.reason(), &doc);
    }
    ++index_;
    ++seen;
  }
  // The scanner's split is trusted only when simdjson finds as many records.
  if (seen != batch_records_)
    fail_batch("page is not valid JSON", simdjson::error_message(simdjson::TAPE_ERROR), &doc);
  batch_.assign(1, '[');
  starts_.clear();
  batch_records_ = 0;
  batch_complete_ = batch_.size();
  if (unfinished) {
    starts_.push_back({batch_.size(), unfinished_start.offset});
    batch_.append(tail_);
  }
}

// The record of batch_ that holds position `at`, as its index in `value` and its
// body offset of `at`.
std::pair<std::size_t, std::uint64_t> PageStream::locate(std::size_t at) const {
  const auto after = std::upper_bound(starts_.begin(), starts_.end(), at,
                                      [](std::size_t pos, const Start& start) { return pos < start.at; });
  if (after == starts_.begin()) return {batch_first_, starts_.front().offset};
  const Start& start = *std::prev(after);
  return {batch_first_ + static_cast<std::size_t>(after - 1 - starts_.begin()), start.offset + (at - start.at)};
}

void PageStream::fail_batch(std::string_view what, std::string_view detail, od::document* doc) {
  std::string msg(what);
  const char* at = nullptr;
  if (doc != nullptr && !doc->current_location().get(at) && at >= batch_.data() &&
      at < batch_.data() + batch_.size()) {
    // Where simdjson stopped, which may be past the record it last handed out.
    const auto [index, offset] = locate(static_cast<std::size_t>(at - batch_.data()));
    msg.append(": record ").append(std::to_string(index)).append(": ").append(detail);
    msg.append(" at byte ").append(std::to_string(offset));
  } else {
    // simdjson refused the batch before reading it (invalid UTF-8, an unclosed string): name its range.
    msg.append(": record ").append(std::to_string(batch_first_));
    if (batch_records_ > 1) msg.append(" to ").append(std::to_string(batch_first_ + batch_records_ - 1));
    msg.append(": ").append(detail).append(" at byte ").append(std::to_string(starts_.front().offset));
  }
  fail(std::move(msg));
}

void PageStream::fail(std::string message) {
  state_ = State::closed;
  throw PageError(message);
}

// parse_page counts bytes in the envelope; past the cut it is short by the
// elements that were cut out.
std::string PageStream::with_page_offsets(std::string message) const {
  constexpr std::string_view marker = " at byte ";
  const std::size_t at = message.rfind(marker);
  if (!saw_value_ || at == std::string::npos) return message;
  const char* digits = message.data() + at + marker.size();
  const char* const end = message.data() + message.size();
  std::uint64_t n = 0;
  const auto [stop, ec] = std::from_chars(digits, end, n);
  if (ec != std::errc{} || stop != end || n < cut_at_) return message;
  message.replace(at + marker.size(), std::string::npos, std::to_string(n + cut_bytes_));
  return message;
}

}  // namespace mdesync::parse
