#pragma once
// One pull of one tenant's data set, end to end: api -> parse -> store.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "api/defender_client.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "store/sync_store.hpp"

namespace mdesync::schedule {

struct PullRequest {
  model::Dataset dataset = model::Dataset::cpe;
  std::optional<store::RunMode> mode;  // nullopt: full when never synced, else incremental
  bool force = false;                  // apply a snapshot past the mass-removal guard
};

struct PullOutcome {
  store::RunMode mode = store::RunMode::incremental;
  store::RunStatus status = store::RunStatus::failed;
  store::RunCounts counts;
  std::string error;
  bool skipped = false;  // another instance holds this tenant and data set
  std::chrono::milliseconds duration{0};
  std::int64_t run_id = 0;
  std::optional<SystemTime> snapshot_generated_at;  // export snapshots
  std::optional<std::uint64_t> removals_held_back;  // guarded snapshots
  std::string note;                                 // e.g. "snapshot already applied"
};

struct PullContext {
  const config::Config& config;
  const config::TenantOptions& tenant;
  api::DefenderClient& api;
  store::SyncStore& store;
  const Clock& clock;
  // Set by the daemon on shutdown: the pull stops at the next page or file and
  // fails as "stopped"; nothing half-applied is left (snapshots apply atomically).
  const std::atomic<bool>* stop = nullptr;

  bool stopping() const { return stop != nullptr && stop->load(); }
  void throw_if_stopping() const;
};

// Never throws for a failed pull: the outcome says what happened and sync_runs records it.
PullOutcome run_pull(PullContext& ctx, const PullRequest& request);

// Applies a staged snapshot and records the result (guarded or not) in `out`.
void apply_snapshot(PullContext& ctx, model::Dataset ds, const store::SnapshotOptions& options, PullOutcome& out);

}  // namespace mdesync::schedule
