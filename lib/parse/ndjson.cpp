#include "parse/ndjson.hpp"

#include <cstring>

namespace mdesync::parse {
namespace {

namespace od = simdjson::ondemand;

bool is_blank(std::string_view s) {
  for (const char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

}  // namespace

NdjsonReader::NdjsonReader(RecordEncoder& encoder, std::string name, std::string& copy_out)
    : encoder_(encoder), name_(std::move(name)), out_(copy_out) {}

void NdjsonReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto* nl = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    const std::size_t piece = nl ? static_cast<std::size_t>(nl - bytes.data()) : bytes.size();
    if (!overlong_ && partial_.size() + piece > max_line_bytes) {
      overlong_ = true;
      partial_.clear();
    }
    if (nl == nullptr) {
      if (!overlong_) partial_.append(bytes);
      return;
    }
    if (overlong_) {
      ++line_no_;
      overlong_ = false;
      reject("line longer than 16 MiB");
    } else if (partial_.empty()) {
      take_line(bytes.substr(0, piece));  // the common case: the whole line is in this chunk
    } else {
      partial_.append(bytes.data(), piece);
      take_line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(piece + 1);
  }
}

void NdjsonReader::finish() {
  if (overlong_) {
    ++line_no_;
    overlong_ = false;
    reject("line longer than 16 MiB");
  } else if (!partial_.empty()) {
    take_line(partial_);
  }
  partial_.clear();
}

void NdjsonReader::take_line(std::string_view line) {
  ++line_no_;
  // CRLF needs nothing special: the CR is JSON whitespace after the record.
  if (line_no_ == 1 && line.starts_with(utf8_bom)) line.remove_prefix(utf8_bom.size());
  if (is_blank(line)) return;

  // simdjson reads up to SIMDJSON_PADDING bytes past the end; give it initialised ones.
  padded_.assign(line);
  padded_.append(simdjson::SIMDJSON_PADDING, ' ');
  const simdjson::padded_string_view view(padded_.data(), line.size(), padded_.size());

  od::document doc;
  if (const auto err = parser_.iterate(view).get(doc)) return reject("not JSON: ", simdjson::error_message(err));
  od::object record;
  if (const auto err = doc.get_object().get(record))
    return reject(err == simdjson::INCORRECT_TYPE ? "not a JSON object" : "not JSON: ",
                  err == simdjson::INCORRECT_TYPE ? "" : simdjson::error_message(err));
  const std::size_t mark = out_.size();
  if (encoder_.encode(record, out_) != Verdict::stored) return reject(encoder_.reason());
  // One line holds one record; `{...} {...}` or `{...} x` is not a record.
  const char* rest = nullptr;
  if (!doc.current_location().get(rest)) {
    out_.resize(mark);
    return reject("trailing content after the record");
  }
  ++rows_;
  if (!encoder_.alteration().empty() && alterations_.size() < max_alteration_details)
    alterations_.push_back({line_no_, name_ + " line " + std::to_string(line_no_) + ": " + encoder_.alteration()});
}

void NdjsonReader::reject(std::string_view problem, std::string_view detail) {
  ++rejected_;
  if (rejections_.size() >= max_rejection_details) return;
  std::string reason;
  reason.reserve(name_.size() + problem.size() + detail.size() + 24);
  reason.append(name_).append(" line ").append(std::to_string(line_no_)).append(": ");
  reason.append(problem).append(detail);
  rejections_.push_back({line_no_, std::move(reason)});
}

}  // namespace mdesync::parse
