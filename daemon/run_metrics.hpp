#pragma once
// What a run adds to /metrics: its rows and outcome, and the API calls it made.
#include <optional>
#include <string>

#include "api/defender_client.hpp"
#include "core/clock.hpp"
#include "metrics/registry.hpp"
#include "ratelimit/quota_limiter.hpp"
#include "schedule/pull.hpp"

namespace mdesync {

void record_api_metrics(metrics::Registry& registry, const std::string& tenant, const api::CallStats& stats,
                        const ratelimit::QuotaLimiter& quota);

void record_run_metrics(metrics::Registry& registry, const std::string& tenant, const std::string& dataset,
                        const schedule::PullOutcome& out, std::optional<SystemTime> last_success);

}  // namespace mdesync
