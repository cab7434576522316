#pragma once
// One pull of one tenant's data set, end to end: api -> parse -> store.
#include <atomic>
#include <chrono>
#include <map>
#include <vector>
#include <optional>
#include <string>

#include "api/defender_client.hpp"
#include "config/config.hpp"
#include "core/classify.hpp"
#include "core/clock.hpp"
#include "core/stall_watch.hpp"
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
  std::map<std::string, std::uint64_t> undocumented_fields;  // name as sent -> records
  std::vector<store::RejectionNote> rejections;              // the first ones (RecordNotes)
  // The pull was given up (stalled, or PostgreSQL did not answer in time) and
  // its end could not be written to sync_runs: record_outcome() does it once the
  // database answers again. `stalled_step` names where it stalled.
  bool unrecorded = false;
  std::string stalled_step;
  // For a failed pull: what the daemon does about it (its delay before the next try).
  Recovery recovery = Recovery::retry;
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
  // Set by run_pull for the pull's duration: progress is reported to it, and a
  // stall breaks every connection of the pull loose (see StallWatch).
  StallWatch* watch = nullptr;

  bool stopping() const { return stop != nullptr && stop->load(); }
  // Throws when shutting down or when the pull was given up as stalled.
  void throw_if_stopping() const;
  // Names what the pull does now (for the stall message) and counts as progress.
  void step(std::string_view name) const {
    if (watch != nullptr) watch->step(name);
  }
  void advanced() const {
    if (watch != nullptr) watch->advanced();
  }
};

// Never throws for a failed pull: the outcome says what happened and sync_runs records it.
PullOutcome run_pull(PullContext& ctx, const PullRequest& request);

// Writes the end of a pull that could not record itself (outcome.unrecorded).
// Throws what the store throws; the caller retries later.
void record_outcome(store::SyncStore& store, const PullOutcome& outcome);

// Applies a staged snapshot and records the result (guarded or not) in `out`.
void apply_snapshot(PullContext& ctx, model::Dataset ds, const store::SnapshotOptions& options, PullOutcome& out);

}  // namespace mdesync::schedule
