#include "faults.hpp"

#include <charconv>

#include "json_writer.hpp"

namespace mdesync::fakeapi {
namespace {

bool parse_double(std::string_view v, double& out) {
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

template <typename Int>
bool parse_int(std::string_view v, Int& out) {
  const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
  return r.ec == std::errc() && r.ptr == v.data() + v.size();
}

struct RateOption {
  std::string_view name;
  double FaultSettings::*field;
};

constexpr RateOption rate_options[] = {
    {"fault-5xx-rate", &FaultSettings::rate_5xx},
    {"fault-429-rate", &FaultSettings::rate_429},
    {"fault-reset-rate", &FaultSettings::rate_reset},
    {"fault-truncate-rate", &FaultSettings::rate_truncate},
    {"fault-slow-rate", &FaultSettings::rate_slow},
    {"fault-malformed-rate", &FaultSettings::rate_malformed},
    {"fault-export-truncate-rate", &FaultSettings::rate_export_truncate},
    {"fault-export-reset-rate", &FaultSettings::rate_export_reset},
};

}  // namespace

bool is_fault_option(std::string_view name) {
  for (const auto& o : rate_options)
    if (o.name == name) return true;
  return name == "fault-retry-after" || name == "fault-slow-ms" || name == "token-expire-after-pages" ||
         name == "fault-seed";
}

std::string set_fault_option(FaultSettings& s, std::string_view name, std::string_view value) {
  for (const auto& o : rate_options) {
    if (o.name != name) continue;
    double d;
    if (!parse_double(value, d) || !(d >= 0.0 && d <= 1.0))
      return std::string(name) + " must be a probability between 0 and 1";
    s.*(o.field) = d;
    return {};
  }
  if (name == "fault-retry-after") {
    if (!parse_int(value, s.retry_after_s) || s.retry_after_s < 0) return "fault-retry-after must be seconds >= 0";
    return {};
  }
  if (name == "fault-slow-ms") {
    if (!parse_int(value, s.slow_ms) || s.slow_ms < 0) return "fault-slow-ms must be milliseconds >= 0";
    return {};
  }
  if (name == "token-expire-after-pages") {
    if (!parse_int(value, s.token_expire_after_pages)) return "token-expire-after-pages must be a count >= 0";
    return {};
  }
  if (name == "fault-seed") {
    if (!parse_int(value, s.seed)) return "fault-seed must be an unsigned integer";
    return {};
  }
  return "unknown fault option '" + std::string(name) + "'";
}

std::string fault_settings_json(const FaultSettings& s) {
  std::string out;
  json::Writer w(out);
  w.begin_object();
  for (const auto& o : rate_options) w.field(o.name, s.*(o.field));
  w.field("fault-retry-after", s.retry_after_s);
  w.field("fault-slow-ms", s.slow_ms);
  w.field("token-expire-after-pages", static_cast<std::uint64_t>(s.token_expire_after_pages));
  w.field("fault-seed", s.seed);
  w.end_object();
  return out;
}

std::string_view fault_name(Fault f) {
  switch (f) {
    case Fault::none: return "none";
    case Fault::error_5xx: return "5xx";
    case Fault::throttle_429: return "429";
    case Fault::reset: return "reset";
    case Fault::truncate: return "truncate";
    case Fault::slow: return "slow";
    case Fault::malformed: return "malformed";
  }
  return "none";
}

std::string_view fault_name(ExportFault f) {
  switch (f) {
    case ExportFault::none: return "none";
    case ExportFault::truncate: return "export_truncate";
    case ExportFault::reset: return "export_reset";
  }
  return "none";
}

FaultInjector::FaultInjector(FaultSettings settings) : settings_(settings), rng_(settings.seed) {}

Fault FaultInjector::draw() {
  std::lock_guard lock(mutex_);
  // Always draw every uniform, so the sequence for one kind does not depend on the others' rates.
  const double u[6] = {rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit()};
  if (u[0] < settings_.rate_reset) return Fault::reset;
  if (u[1] < settings_.rate_truncate) return Fault::truncate;
  if (u[2] < settings_.rate_5xx) return Fault::error_5xx;
  if (u[3] < settings_.rate_429) return Fault::throttle_429;
  if (u[4] < settings_.rate_malformed) return Fault::malformed;
  if (u[5] < settings_.rate_slow) return Fault::slow;
  return Fault::none;
}

ExportFault FaultInjector::draw_export() {
  std::lock_guard lock(mutex_);
  const double a = rng_.unit(), b = rng_.unit();
  if (a < settings_.rate_export_reset) return ExportFault::reset;
  if (b < settings_.rate_export_truncate) return ExportFault::truncate;
  return ExportFault::none;
}

unsigned FaultInjector::draw_5xx_status() {
  std::lock_guard lock(mutex_);
  return rng_.below(2) == 0 ? 500u : 503u;
}

FaultSettings FaultInjector::settings() const {
  std::lock_guard lock(mutex_);
  return settings_;
}

void FaultInjector::update(const FaultSettings& s) {
  std::lock_guard lock(mutex_);
  if (s.seed != settings_.seed) rng_ = Rng(s.seed);
  settings_ = s;
}

}  // namespace mdesync::fakeapi
