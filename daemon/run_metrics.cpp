#include "daemon/run_metrics.hpp"

#include "metrics/names.hpp"

namespace mdesync {

void record_api_metrics(metrics::Registry& registry, const std::string& tenant, const api::CallStats& stats,
                        const ratelimit::QuotaLimiter& quota) {
  for (const auto& [key, count] : stats.by_status)
    registry.add(metrics::names::api_requests,
                 {{"tenant", tenant}, {"endpoint", key.first}, {"status", std::to_string(key.second)}},
                 static_cast<double>(count));
  registry.add(metrics::names::api_throttled, {{"tenant", tenant}}, static_cast<double>(stats.throttled));
  for (const auto family : {ratelimit::Family::json, ratelimit::Family::export_files})
    for (const auto window : {std::chrono::seconds(60), std::chrono::seconds(3600)})
      registry.set(metrics::names::quota_remaining,
                   {{"tenant", tenant}, {"family", ratelimit::to_string(family)},
                    {"window", window.count() == 60 ? "minute" : "hour"}},
                   quota.remaining(family, window));
}

void record_run_metrics(metrics::Registry& registry, const std::string& tenant, const std::string& dataset,
                        const schedule::PullOutcome& out, std::optional<SystemTime> last_success) {
  const metrics::Labels labels{{"tenant", tenant}, {"dataset", dataset}};
  registry.add(metrics::names::rows_received, labels, static_cast<double>(out.counts.received));
  registry.add(metrics::names::rows_upserted, labels, static_cast<double>(out.counts.upserted));
  registry.add(metrics::names::rows_removed, labels, static_cast<double>(out.counts.removed));
  registry.add(metrics::names::rows_rejected, labels, static_cast<double>(out.counts.rejected));
  registry.add(metrics::names::rows_altered, labels, static_cast<double>(out.counts.altered));
  auto with_mode = labels;
  with_mode.emplace_back("mode", model::to_string(out.mode));
  registry.set(metrics::names::run_duration_seconds, with_mode, out.duration.count() / 1000.0);
  with_mode.emplace_back("status", out.skipped ? "skipped" : model::to_string(out.status));
  registry.add(metrics::names::runs, with_mode, 1);
  if (last_success)
    registry.set(metrics::names::last_success_timestamp_seconds, labels,
                 std::chrono::duration<double>(last_success->time_since_epoch()).count());
}

}  // namespace mdesync
