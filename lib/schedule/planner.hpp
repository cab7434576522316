#pragma once
// When each tenant's data set runs next, and how. Pure: the daemon feeds it the
// state it read from sync_state and the time; tests feed it a fake clock.
//
// Rules:
//  - never synced -> a full sync, now (plus its jitter);
//  - a full sync every sync.full_interval, an incremental every
//    sync.incremental_interval after the last sync of either kind;
//  - when both are due, the full one wins (it covers the incremental);
//  - overdue work runs now: a restart neither re-syncs everything nor forgets a
//    due full snapshot, because due times come from the stored sync times;
//  - each tenant and data set has a fixed jitter so tenants do not fire together.
#include <chrono>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "model/run.hpp"

namespace mdesync::schedule {

struct Intervals {
  std::chrono::milliseconds incremental;
  std::chrono::milliseconds full;
};

struct Plan {
  SystemTime due;
  model::RunMode mode;
};

// The most any job is shifted: a tenth of the incremental interval, at most 5 minutes.
std::chrono::milliseconds max_jitter(const Intervals& intervals);

// A stable offset in [0, max_jitter) from the tenant and data set names.
std::chrono::milliseconds jitter_for(const std::string& tenant, model::Dataset ds, const Intervals& intervals);

Plan next_run(const model::SyncState& state, const Intervals& intervals, SystemTime now,
              std::chrono::milliseconds jitter);

// After a failed run: 30 s, 1 min, 2 min, ... never more than the incremental interval.
std::chrono::milliseconds retry_delay(int consecutive_failures, const Intervals& intervals);

}  // namespace mdesync::schedule
