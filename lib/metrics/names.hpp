#pragma once
// Every metric mdesync exports, named mdesync_<name>_<unit>[_total], with the
// labels each one carries. Code updates metrics through these constants only,
// so a typo is a compile error rather than a new, silent time series.
#include <string_view>

#include "metrics/registry.hpp"

namespace mdesync::metrics {

namespace names {
// Counters, labels {tenant, dataset}: rows through the pipeline.
inline constexpr std::string_view rows_received = "mdesync_rows_received_total";
inline constexpr std::string_view rows_upserted = "mdesync_rows_upserted_total";
inline constexpr std::string_view rows_removed = "mdesync_rows_removed_total";
inline constexpr std::string_view rows_rejected = "mdesync_rows_rejected_total";
// Counter, labels {tenant, endpoint, status}: one per HTTP exchange with the API.
inline constexpr std::string_view api_requests = "mdesync_api_requests_total";
// Counter, labels {tenant}: 429 answers.
inline constexpr std::string_view api_throttled = "mdesync_api_throttled_total";
// Gauge, labels {tenant, family, window}: calls left in a quota window (family json|export, window minute|hour).
inline constexpr std::string_view quota_remaining = "mdesync_quota_remaining";
// Gauge, labels {tenant, dataset, mode}: how long the last run took.
inline constexpr std::string_view run_duration_seconds = "mdesync_run_duration_seconds";
// Counter, labels {tenant, dataset, mode, status}: finished runs.
inline constexpr std::string_view runs = "mdesync_runs_total";
// Gauge, labels {tenant, dataset}: Unix time of the last successful run.
inline constexpr std::string_view last_success_timestamp_seconds = "mdesync_last_success_timestamp_seconds";
// Gauge, no labels: 1 while the daemon runs and syncing works; 0 while a pull
// is stalled or the database is unreachable (what /healthz says).
inline constexpr std::string_view up = "mdesync_up";
// Gauge, labels {tenant, dataset}: 1 while that job's pull is stalled or was
// last given up as stalled (no progress for sync.stall_timeout), 0 otherwise.
inline constexpr std::string_view stalled = "mdesync_stalled";
// Counter, labels {tenant, dataset}: records stored with a value altered to fit.
inline constexpr std::string_view rows_altered = "mdesync_rows_altered_total";
}  // namespace names

// Label names used above.
namespace label {
inline constexpr std::string_view tenant = "tenant";
inline constexpr std::string_view dataset = "dataset";
inline constexpr std::string_view endpoint = "endpoint";
inline constexpr std::string_view status = "status";
inline constexpr std::string_view family = "family";
inline constexpr std::string_view window = "window";
inline constexpr std::string_view mode = "mode";
}  // namespace label

// Registers HELP and TYPE for every metric above and sets mdesync_up to 1, so
// a scrape shows every family from the first second, samples or not.
void describe_all(Registry& registry);

}  // namespace mdesync::metrics
