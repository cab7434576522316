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
    {"fault-html-rate", &FaultSettings::rate_html},
    {"fault-export-truncate-rate", &FaultSettings::rate_export_truncate},
    {"fault-export-reset-rate", &FaultSettings::rate_export_reset},
    {"fault-sas-expired-rate", &FaultSettings::rate_sas_expired},
    {"fault-export-empty-rate", &FaultSettings::rate_export_empty},
};

}  // namespace

bool is_fault_option(std::string_view name) {
  for (const auto& o : rate_options)
    if (o.name == name) return true;
  return name == "fault-retry-after" || name == "fault-slow-ms" || name == "token-expire-after-pages" ||
         name == "fault-seed" || name == "fault-start-after" || name == "fault-count";
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
  if (name == "fault-start-after") {
    if (!parse_int(value, s.start_after)) return "fault-start-after must be a count of requests >= 0";
    return {};
  }
  if (name == "fault-count") {
    if (!parse_int(value, s.count)) return "fault-count must be a count of faults >= 0 (0 = no limit)";
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
  w.field("fault-start-after", s.start_after);
  w.field("fault-count", s.count);
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
    case Fault::html: return "html";
  }
  return "none";
}

std::string_view fault_name(ExportFault f) {
  switch (f) {
    case ExportFault::none: return "none";
    case ExportFault::truncate: return "export_truncate";
    case ExportFault::reset: return "export_reset";
    case ExportFault::empty: return "export_empty";
  }
  return "none";
}

FaultInjector::FaultInjector(FaultSettings settings) : settings_(settings), rng_(settings.seed) {}

bool FaultInjector::in_window() {
  // The caller holds mutex_.
  if (requests_seen_++ < settings_.start_after) return false;
  return settings_.count == 0 || faults_injected_ < settings_.count;
}

template <typename F>
F FaultInjector::counted(F f) {
  if (f != F{}) ++faults_injected_;
  return f;
}

Fault FaultInjector::draw() {
  std::lock_guard lock(mutex_);
  if (!in_window()) return Fault::none;
  // Always draw every uniform, so the sequence for one kind does not depend on the others' rates.
  const double u[6] = {rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit(), rng_.unit()};
  if (u[0] < settings_.rate_reset) return counted(Fault::reset);
  if (u[1] < settings_.rate_truncate) return counted(Fault::truncate);
  if (u[2] < settings_.rate_5xx) return counted(Fault::error_5xx);
  if (u[3] < settings_.rate_429) return counted(Fault::throttle_429);
  if (u[4] < settings_.rate_malformed) return counted(Fault::malformed);
  if (u[5] < settings_.rate_slow) return counted(Fault::slow);
  // Drawn only when enabled: the sequences of the older kinds, which seeded tests rely on, stay as they were.
  if (settings_.rate_html > 0 && rng_.unit() < settings_.rate_html) return counted(Fault::html);
  return Fault::none;
}

ExportFault FaultInjector::draw_export() {
  std::lock_guard lock(mutex_);
  if (!in_window()) return ExportFault::none;
  const double a = rng_.unit(), b = rng_.unit();
  if (a < settings_.rate_export_reset) return counted(ExportFault::reset);
  if (b < settings_.rate_export_truncate) return counted(ExportFault::truncate);
  // Drawn only when enabled, like fault-html-rate: seeded sequences of the older kinds stay as they were.
  if (settings_.rate_export_empty > 0 && rng_.unit() < settings_.rate_export_empty) return counted(ExportFault::empty);
  return ExportFault::none;
}

bool FaultInjector::draw_sas_expired() {
  std::lock_guard lock(mutex_);
  // Like fault-html-rate: no draw at all unless enabled, so existing seeded sequences are unchanged.
  if (settings_.rate_sas_expired <= 0) return false;
  // The request is counted by draw_export() when it gets that far, so only look at the window here.
  if (requests_seen_ < settings_.start_after) return false;
  if (settings_.count != 0 && faults_injected_ >= settings_.count) return false;
  if (rng_.unit() >= settings_.rate_sas_expired) return false;
  ++faults_injected_;
  return true;
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
  requests_seen_ = 0;
  faults_injected_ = 0;
}

}  // namespace mdesync::fakeapi
