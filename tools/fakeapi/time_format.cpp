#include "time_format.hpp"

#include <chrono>

namespace mdesync::fakeapi {
namespace {

struct Civil {
  int year;
  unsigned month, day, hour, minute, second;
  unsigned weekday;  // 0 = Sunday
};

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

Civil civil(std::int64_t secs) {
  using namespace std::chrono;
  const std::int64_t days_since = floor_div(secs, 86400);
  const std::int64_t sod = secs - days_since * 86400;
  const sys_days d{days{days_since}};
  const year_month_day ymd{d};
  return {static_cast<int>(ymd.year()),         static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()),     static_cast<unsigned>(sod / 3600),
          static_cast<unsigned>(sod / 60 % 60), static_cast<unsigned>(sod % 60),
          weekday{d}.c_encoding()};
}

void put2(std::string& out, unsigned v) {
  const char b[2] = {static_cast<char>('0' + v / 10 % 10), static_cast<char>('0' + v % 10)};
  out.append(b, 2);
}

void put4(std::string& out, int v) {
  const unsigned u = static_cast<unsigned>(v);
  const char b[4] = {static_cast<char>('0' + u / 1000 % 10), static_cast<char>('0' + u / 100 % 10),
                     static_cast<char>('0' + u / 10 % 10), static_cast<char>('0' + u % 10)};
  out.append(b, 4);
}

void put_digits(std::string& out, std::int64_t v, int width) {
  char b[12];
  for (int i = width - 1; i >= 0; --i) {
    b[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(b, static_cast<std::size_t>(width));
}

void put_civil(std::string& out, const Civil& c, char sep) {
  put4(out, c.year);
  out += '-';
  put2(out, c.month);
  out += '-';
  put2(out, c.day);
  out += sep;
  put2(out, c.hour);
  out += ':';
  put2(out, c.minute);
  out += ':';
  put2(out, c.second);
}

}  // namespace

void append_date_time(std::string& out, std::int64_t unix_seconds) { put_civil(out, civil(unix_seconds), ' '); }

void append_offset_date_time(std::string& out, std::int64_t unix_seconds) {
  put_civil(out, civil(unix_seconds), 'T');
  out += "+00:00";
}

void append_last_seen(std::string& out, std::int64_t ticks, bool seven_digits) {
  const std::int64_t secs = floor_div(ticks, ticks_per_second);
  const std::int64_t frac = ticks - secs * ticks_per_second;
  put_civil(out, civil(secs), ' ');
  out += '.';
  if (seven_digits)
    put_digits(out, frac, 7);
  else
    put_digits(out, frac / 10'000, 3);
}

std::string format_http_date(SystemTime t) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = civil(to_unix_seconds(t));
  std::string out;
  out.reserve(29);
  out += days[c.weekday];
  out += ", ";
  put2(out, c.day);
  out += ' ';
  out += months[c.month - 1];
  out += ' ';
  put4(out, c.year);
  out += ' ';
  put2(out, c.hour);
  out += ':';
  put2(out, c.minute);
  out += ':';
  put2(out, c.second);
  out += " GMT";
  return out;
}

std::int64_t unix_seconds(int year, unsigned month, unsigned day, int hour, int minute, int second) {
  using namespace std::chrono;
  const sys_days d{year_month_day{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}}};
  return d.time_since_epoch().count() * 86400 + hour * 3600 + minute * 60 + second;
}

std::int64_t to_ticks(SystemTime t) {
  using namespace std::chrono;
  return duration_cast<duration<std::int64_t, std::ratio<1, ticks_per_second>>>(t.time_since_epoch()).count();
}

std::int64_t to_unix_seconds(SystemTime t) {
  using namespace std::chrono;
  return floor<seconds>(t).time_since_epoch().count();
}

}  // namespace mdesync::fakeapi

namespace mdesync::fakeapi {
std::string format_iso8601_seconds(SystemTime t) {
  std::string out;
  out.reserve(20);
  put_civil(out, civil(to_unix_seconds(t)), 'T');
  out += 'Z';
  return out;
}
}  // namespace mdesync::fakeapi
