#pragma once
// Whether a full snapshot may remove what it no longer lists. Pure: decided from
// counts, so it is unit tested without a database.
#include <cstdint>

namespace mdesync::store {

struct RemovalVerdict {
  // The snapshot would remove more than the allowed share of the tenant's current
  // rows (a truncated export, a tenant half offboarded): its rows are merged, but
  // nothing is removed and the run says so (sync_runs.status 'guarded').
  bool guarded = false;
  // Rows are removed (marked removed_at) by this snapshot.
  bool remove = false;
};

// `active_before`: the tenant's current rows before the snapshot; `candidates`:
// those the snapshot does not list; `max_ratio`: sync.max_removal_ratio; `force`:
// `mdesync sync --force`, removals applied past the guard. A tenant without rows
// has nothing to guard.
RemovalVerdict judge_removals(std::uint64_t active_before, std::uint64_t candidates, double max_ratio, bool force);

}  // namespace mdesync::store
