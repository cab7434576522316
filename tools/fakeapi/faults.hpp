#pragma once
// Fault injection on the data endpoints, deterministic for a given --fault-seed and
// request order. A fault changes what one response looks like on the wire; it never
// touches tenant data, quotas or tokens.
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "rng.hpp"

namespace mdesync::fakeapi {

struct FaultSettings {
  double rate_5xx = 0;        // 500/503 with an error body
  double rate_429 = 0;        // 429 with Retry-After: retry_after_s, even under quota
  std::int64_t retry_after_s = 1;
  double rate_reset = 0;      // close the connection without answering
  double rate_truncate = 0;   // full Content-Length, part of the body, close
  double rate_slow = 0;       // answer after slow_ms
  std::int64_t slow_ms = 2000;
  double rate_malformed = 0;  // 200 with a body that is not JSON
  double rate_html = 0;       // 200 with Content-Type text/html and a proxy's HTML page
  std::uint32_t token_expire_after_pages = 0;  // 0 = never
  double rate_export_truncate = 0;  // export file: a complete response holding a cut-off gzip stream
  double rate_export_reset = 0;     // export file: connection closed mid-body
  double rate_sas_expired = 0;      // export file: 403 AuthenticationFailed, as for an expired SAS
  double rate_export_empty = 0;     // export file: 200 with Content-Length 0, as Azure Storage was seen to answer
  // A fault window, counted from start-up or the latest change of the settings:
  // the first start_after requests pass untouched, then at most `count` faults (0 = no limit).
  std::uint64_t start_after = 0;
  std::uint64_t count = 0;
  std::uint64_t seed = 1;
};

// Sets one setting by its command-line name without the dashes ("fault-5xx-rate").
// Returns an error message, or empty on success. `name` unknown -> error.
std::string set_fault_option(FaultSettings& s, std::string_view name, std::string_view value);
bool is_fault_option(std::string_view name);
// The settings as a JSON object keyed by option name.
std::string fault_settings_json(const FaultSettings& s);

enum class Fault { none, error_5xx, throttle_429, reset, truncate, slow, malformed, html };
enum class ExportFault { none, truncate, reset, empty };

std::string_view fault_name(Fault f);
std::string_view fault_name(ExportFault f);

class FaultInjector {
 public:
  explicit FaultInjector(FaultSettings settings = {});

  // One draw per data request: at most one fault.
  Fault draw();
  ExportFault draw_export();
  // Whether a blob request is refused as if its SAS had expired (fault-sas-expired-rate).
  bool draw_sas_expired();
  // For 5xx: 500 or 503.
  unsigned draw_5xx_status();

  FaultSettings settings() const;
  // Replaces the settings; a changed seed restarts the sequence.
  void update(const FaultSettings& s);

 private:
  mutable std::mutex mutex_;
  // Whether the fault window lets this request have a fault; counts the request.
  bool in_window();
  // Counts an injected fault against settings_.count.
  template <typename F>
  F counted(F f);

  FaultSettings settings_;
  Rng rng_;
  std::uint64_t requests_seen_ = 0;
  std::uint64_t faults_injected_ = 0;
};

}  // namespace mdesync::fakeapi
