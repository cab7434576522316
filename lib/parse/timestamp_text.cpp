#include "parse/timestamp_text.hpp"

#include <cstdlib>

#include "core/timestamp.hpp"

namespace mdesync::parse {

bool append_timestamptz(std::string& out, std::string_view text) {
  // The shapes are core's (lex_iso8601); what PostgreSQL's input takes is ours.
  Iso8601Fields f;
  if (!lex_iso8601(text, f)) return false;
  if (f.fraction.size() > max_fraction_digits) return false;
  // PostgreSQL accepts offsets up to 15:59.
  if (std::abs(f.offset_minutes) / 60 > 15) return false;
  out.append(f.date);
  out.push_back(' ');
  if (f.hh.empty()) {
    out.append("00:00:00", 8);
  } else {
    out.append(f.hh);
    out.push_back(':');
    out.append(f.mm);
    out.push_back(':');
    // 60 is a leap second; PostgreSQL accepts it and rolls over.
    if (f.ss.empty())
      out.append("00", 2);
    else
      out.append(f.ss);
  }
  if (!f.fraction.empty()) {
    out.push_back('.');
    out.append(f.fraction);
  }
  if (f.offset_sign == 0) {
    out.append("+00", 3);
  } else {
    out.push_back(f.offset_sign);
    out.append(f.off_hh);
    out.push_back(':');
    if (f.off_mm.empty())
      out.append("00", 2);
    else
      out.append(f.off_mm);
  }
  return true;
}

}  // namespace mdesync::parse
