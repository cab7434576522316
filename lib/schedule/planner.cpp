#include "schedule/planner.hpp"

#include <algorithm>
#include <cstdint>

namespace mdesync::schedule {
namespace {

using std::chrono::milliseconds;

std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

constexpr milliseconds jitter_cap = std::chrono::minutes(5);
constexpr milliseconds first_retry = std::chrono::seconds(30);

}  // namespace

milliseconds max_jitter(const Intervals& intervals) { return std::min(intervals.incremental / 10, jitter_cap); }

milliseconds jitter_for(const std::string& tenant, model::Dataset ds, const Intervals& intervals) {
  const auto span = max_jitter(intervals).count();
  if (span <= 0) return milliseconds(0);
  const auto h = fnv1a(tenant + "/" + std::string(model::spec(ds).name));
  return milliseconds(static_cast<std::int64_t>(h % static_cast<std::uint64_t>(span)));
}

Plan next_run(const model::SyncState& state, const Intervals& intervals, SystemTime now, milliseconds jitter) {
  if (!state.watermark || !state.last_full_at) return {now + jitter, model::RunMode::full};
  const SystemTime full_due = *state.last_full_at + intervals.full + jitter;
  SystemTime last_any = *state.last_full_at;
  if (state.last_incremental_at) last_any = std::max(last_any, *state.last_incremental_at);
  const SystemTime incremental_due = last_any + intervals.incremental + jitter;
  Plan plan = full_due <= incremental_due ? Plan{full_due, model::RunMode::full}
                                          : Plan{incremental_due, model::RunMode::incremental};
  plan.due = std::max(plan.due, now);
  return plan;
}

milliseconds retry_delay(int consecutive_failures, const Intervals& intervals) {
  milliseconds delay = first_retry;
  for (int i = 1; i < consecutive_failures && delay < intervals.incremental; ++i) delay *= 2;
  return std::min(delay, std::max(intervals.incremental, first_retry));
}

}  // namespace mdesync::schedule
