#include "store/digest_lines.hpp"

#include <cstring>

#include "store/row_digest.hpp"

namespace mdesync::store {

LineDigester::LineDigester(model::Dataset ds, std::shared_ptr<KnownRows> known) : known_(std::move(known)) {
  // Every column after the device id, extra_fields included.
  for (std::size_t i = 0; i < model::spec(ds).columns.size(); ++i) marker_fields_ += "\t\\N";
}

void LineDigester::process(std::string_view lines, std::string& out) {
  out.reserve(out.size() + lines.size() + lines.size() / 8);
  while (!lines.empty()) {
    const void* nl = std::memchr(lines.data(), '\n', lines.size());
    const std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - lines.data()) : lines.size();
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(nl ? end + 1 : end);
    // COPY text escapes tabs inside values, so the first tab ends the tenant and
    // the second the device id.
    const std::size_t tab = line.find('\t');
    const std::size_t fields_from = tab == std::string_view::npos ? line.size() : tab + 1;
    const RowDigest d = digest_row(line.substr(fields_from));
    if (known_ && known_->mark_seen(d)) {
      const std::size_t device_end = line.find('\t', fields_from);
      out.append(line.substr(0, device_end == std::string_view::npos ? line.size() : device_end));
      out.append(marker_fields_);
      ++unchanged_;
    } else {
      out.append(line);
    }
    out.push_back('\t');
    append_uuid(out, d);
    out.push_back('\n');
  }
}

std::string_view LineDigester::digest(std::string_view lines) {
  buffer_.clear();
  process(lines, buffer_);
  return buffer_;
}

}  // namespace mdesync::store
