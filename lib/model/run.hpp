#pragma once
// What a sync run is and where a tenant's data set stands: shared by the store,
// which keeps them, and the scheduler, which decides from them.
#include <optional>

#include "core/clock.hpp"

namespace mdesync::model {

enum class RunMode { full, incremental };
enum class RunStatus { running, succeeded, failed, guarded, abandoned };

const char* to_string(RunMode m);
const char* to_string(RunStatus s);

// sync_state of one tenant and data set.
struct SyncState {
  std::optional<SystemTime> watermark;
  std::optional<SystemTime> last_incremental_at;
  std::optional<SystemTime> last_full_at;
  std::optional<SystemTime> snapshot_generated_at;  // last export snapshot applied
};

}  // namespace mdesync::model
