#include "store/digest_lines.hpp"

#include <cstring>

#include "store/row_digest.hpp"

namespace mdesync::store {

LineDigester::LineDigester(std::shared_ptr<KnownRows> known, bool keep_seen)
    : known_(std::move(known)), keep_seen_(keep_seen) {}

void LineDigester::process(std::string_view lines, std::string& out) {
  out.reserve(out.size() + lines.size() + lines.size() / 8);
  while (!lines.empty()) {
    const void* nl = std::memchr(lines.data(), '\n', lines.size());
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - lines.data()) : lines.size();
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(nl ? end + 1 : end);
    // COPY text escapes tabs inside values, so the first tab ends the tenant.
    const std::size_t tab = line.find('\t');
    const std::size_t fields_from = tab == std::string_view::npos ? line.size() : tab + 1;
    const RowDigest d = digest_row(line.substr(fields_from));
    if (known_ && known_->mark_seen(d)) {
      ++unchanged_;
      if (keep_seen_) {
        if (!seen_.empty()) seen_.push_back(',');
        append_uuid(seen_, d);
      }
      continue;
    }
    out.append(line);
    out.push_back('\t');
    append_uuid(out, d);
    out.push_back('\n');
  }
}

std::string LineDigester::take_seen() {
  std::string out = "{" + seen_ + "}";
  seen_.clear();
  return out;
}

std::string_view LineDigester::digest(std::string_view lines) {
  buffer_.clear();
  process(lines, buffer_);
  return buffer_;
}

}  // namespace mdesync::store
