#include "core/timestamp.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace mdesync {
namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
  static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

std::optional<SystemTime> from_civil(int y, int mo, int d, int h, int mi, int s) {
  using namespace std::chrono;
  // SystemTime counts nanoseconds in 64 bits: about 1678 to 2261. Outside a safe
  // margin of that, the arithmetic below would overflow into some other date.
  if (y < 1700 || y > 2200) return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s};
}

}  // namespace

std::string format_iso8601_utc(SystemTime t) {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(t);
  const auto day = floor<days>(ms);
  const year_month_day ymd{day};
  const hh_mm_ss hms{ms - day};
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()), static_cast<int>(hms.subseconds().count()));
  return buf.data();
}

bool lex_iso8601(std::string_view s, Iso8601Fields& f) {
  f = Iso8601Fields{};
  if (!digits(s, 0, 4, f.year) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, f.month) || s[7] != '-' ||
      !digits(s, 8, 2, f.day))
    return false;
  // Year 0 exists in neither PostgreSQL's calendar nor ISO 8601 without agreement.
  if (f.year < 1 || f.month < 1 || f.month > 12 || f.day < 1 || f.day > days_in_month(f.year, f.month)) return false;
  f.date = s.substr(0, 10);
  std::size_t pos = 10;
  if (pos == s.size()) return true;  // date only

  // RFC 3339 5.6 allows a lower-case 't' and 'z'; PostgreSQL writes a space.
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return false;
  if (!digits(s, pos + 1, 2, f.hour) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
      !digits(s, pos + 4, 2, f.minute) || f.hour > 23 || f.minute > 59)
    return false;
  f.hh = s.substr(pos + 1, 2);
  f.mm = s.substr(pos + 4, 2);
  pos += 6;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, f.second) || f.second > 60) return false;
    f.ss = s.substr(pos + 1, 2);
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      const std::size_t start = ++pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return false;
      f.fraction = s.substr(start, pos - start);
    }
  }
  if (pos == s.size()) return true;

  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size();
  if (s[pos] != '+' && s[pos] != '-') return false;
  f.offset_sign = s[pos];
  int off_h = 0, off_m = 0;
  if (!digits(s, pos + 1, 2, off_h) || off_h > 23) return false;
  f.off_hh = s.substr(pos + 1, 2);
  pos += 3;
  if (pos != s.size()) {
    if (s[pos] == ':') ++pos;  // "+05:" alone is not an offset: two digits must follow
    if (!digits(s, pos, 2, off_m) || off_m > 59 || pos + 2 != s.size()) return false;
    f.off_mm = s.substr(pos, 2);
  }
  f.offset_minutes = (f.offset_sign == '-' ? -1 : 1) * (off_h * 60 + off_m);
  return true;
}

std::optional<SystemTime> parse_iso8601(std::string_view s) {
  Iso8601Fields f;
  if (!lex_iso8601(s, f)) return std::nullopt;
  const auto base = from_civil(f.year, f.month, f.day, f.hour, f.minute, f.second);
  if (!base) return std::nullopt;
  // Nanoseconds are all SystemTime holds; further digits change nothing.
  std::int64_t ns = 0, scale = 100'000'000;
  for (std::size_t i = 0; i < f.fraction.size() && scale > 0; ++i, scale /= 10) ns += (f.fraction[i] - '0') * scale;
  return *base + std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds(ns)) -
         std::chrono::minutes(f.offset_minutes);
}

std::optional<SystemTime> parse_http_date(std::string_view s) {
  // IMF-fixdate only; the obsolete forms are not sent by any server we talk to.
  static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s.substr(26) != "GMT") return std::nullopt;
  int d, y, h, mi, sec;
  if (!digits(s, 5, 2, d) || !digits(s, 12, 4, y) || !digits(s, 17, 2, h) || !digits(s, 20, 2, mi) ||
      !digits(s, 23, 2, sec))
    return std::nullopt;
  int mo = 0;
  for (std::size_t i = 0; i < months.size(); ++i)
    if (s.substr(8, 3) == months[i]) mo = static_cast<int>(i) + 1;
  if (mo == 0) return std::nullopt;
  return from_civil(y, mo, d, h, mi, sec);
}

}  // namespace mdesync
