#include "parse/timestamp_text.hpp"

namespace mdesync::parse {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t n, int& value) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  value = v;
  return true;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

struct Parsed {
  std::string_view date;      // YYYY-MM-DD
  std::string_view hh, mm;    // empty for a date-only value
  std::string_view ss;        // empty when the time has no seconds
  std::string_view fraction;  // digits after '.', possibly empty
  char offset_sign = 0;       // 0: no offset or Z (UTC)
  std::string_view off_hh, off_mm;
};

bool parse(std::string_view s, Parsed& p) {
  int year, month, day;
  if (!read_digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-' || !read_digits(s, 5, 2, month) ||
      s[7] != '-' || !read_digits(s, 8, 2, day))
    return false;
  // Year 0 does not exist in PostgreSQL's AD calendar.
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return false;
  p.date = s.substr(0, 10);
  std::size_t pos = 10;
  if (pos == s.size()) return true;  // date only

  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return false;
  int hour, minute;
  if (!read_digits(s, pos + 1, 2, hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !read_digits(s, pos + 4, 2, minute) || hour > 23 || minute > 59)
    return false;
  p.hh = s.substr(pos + 1, 2);
  p.mm = s.substr(pos + 4, 2);
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    int second;
    // 60 is a leap second; PostgreSQL accepts it and rolls over.
    if (!read_digits(s, pos + 1, 2, second) || second > 60) return false;
    p.ss = s.substr(pos + 1, 2);
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      const std::size_t start = ++pos;
      while (pos < s.size() && is_digit(s[pos])) ++pos;
      if (pos == start || pos - start > max_fraction_digits) return false;
      p.fraction = s.substr(start, pos - start);
    }
  }
  if (pos == s.size()) return true;

  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  p.offset_sign = s[pos];
  int off_h, off_m = 0;
  // PostgreSQL accepts offsets up to 15:59.
  if (!read_digits(s, pos + 1, 2, off_h) || off_h > 15) return false;
  p.off_hh = s.substr(pos + 1, 2);
  pos += 3;
  if (pos == s.size()) return true;
  if (s[pos] == ':') ++pos;
  if (!read_digits(s, pos, 2, off_m) || off_m > 59 || pos + 2 != s.size()) return false;
  p.off_mm = s.substr(pos, 2);
  return true;
}

}  // namespace

bool append_timestamptz(std::string& out, std::string_view text) {
  Parsed p;
  if (!parse(text, p)) return false;
  out.append(p.date);
  out.push_back(' ');
  if (p.hh.empty()) {
    out.append("00:00:00", 8);
  } else {
    out.append(p.hh);
    out.push_back(':');
    out.append(p.mm);
    out.push_back(':');
    if (p.ss.empty())
      out.append("00", 2);
    else
      out.append(p.ss);
  }
  if (!p.fraction.empty()) {
    out.push_back('.');
    out.append(p.fraction);
  }
  if (p.offset_sign == 0) {
    out.append("+00", 3);
  } else {
    out.push_back(p.offset_sign);
    out.append(p.off_hh);
    out.push_back(':');
    if (p.off_mm.empty())
      out.append("00", 2);
    else
      out.append(p.off_mm);
  }
  return true;
}

}  // namespace mdesync::parse
