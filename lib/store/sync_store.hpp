#pragma once
// Everything a pull writes: runs, staged rows, merges and the watermark.
// Invariant: the watermark only moves inside the transaction that commits the
// rows it covers; a failed pull leaves it where it was.
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "store/connection.hpp"

namespace mdesync::store {

enum class RunMode { full, incremental };
enum class RunStatus { running, succeeded, failed, guarded, abandoned };

const char* to_string(RunMode m);
const char* to_string(RunStatus s);

struct RunCounts {
  std::uint64_t received = 0;
  std::uint64_t upserted = 0;
  std::uint64_t removed = 0;
  std::uint64_t rejected = 0;
};

struct SyncState {
  std::optional<SystemTime> watermark;
  std::optional<SystemTime> last_incremental_at;
  std::optional<SystemTime> last_full_at;
  std::optional<SystemTime> snapshot_generated_at;  // last export snapshot applied
};

// Moves the watermark of (tenant, dataset) and stamps the sync time.
struct WatermarkUpdate {
  SystemTime watermark;
  RunMode mode;
};

struct SnapshotOptions {
  SystemTime removed_at;         // when the snapshot says rows were gone
  double max_removal_ratio = 0.3;
  bool force = false;            // apply removals even past the guard
  WatermarkUpdate advance;
  std::optional<SystemTime> snapshot_generated_at;  // export snapshots: remembered as applied
};

// What a run adds to sync_runs beyond its counts.
struct RunDetails {
  std::optional<SystemTime> snapshot_generated_at;
  std::optional<std::uint64_t> removals_held_back;
};

struct SnapshotResult {
  std::uint64_t upserted = 0;
  std::uint64_t removed = 0;
  std::uint64_t removal_candidates = 0;
  std::uint64_t active_before = 0;
  bool guarded = false;
};

class SyncStore {
 public:
  SyncStore(const std::string& database_url, std::string schema);
  ~SyncStore();
  SyncStore(const SyncStore&) = delete;
  SyncStore& operator=(const SyncStore&) = delete;

  Connection& connection() { return *conn_; }
  const std::string& schema() const { return schema_; }

  // A session advisory lock per (schema, tenant, dataset): two instances never
  // run the same pull at once. Released by unlock() or when the session ends.
  bool try_lock(const std::string& tenant, model::Dataset ds);
  void unlock(const std::string& tenant, model::Dataset ds);

  SyncState state(const std::string& tenant, model::Dataset ds);

  // Inserts a 'running' row (its own transaction) and returns its id. Rows left
  // 'running' by a crashed run of the same tenant and data set become
  // 'abandoned' (the caller holds the lock, so nobody else is running it).
  std::int64_t begin_run(const std::string& tenant, model::Dataset ds, RunMode mode);
  void finish_run(std::int64_t run_id, RunStatus status, const RunCounts& counts, const std::string& error,
                  const RunDetails& details = {});

  // Incremental: the rows (COPY text) are upserted in one transaction; with
  // `advance`, the watermark moves in that same transaction.
  std::uint64_t upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                             const std::optional<WatermarkUpdate>& advance);

  // Full: rows are staged (committed, invisible to readers) page by page, then
  // applied in one transaction, so readers see the old state or the new one.
  void begin_snapshot(const std::string& tenant, model::Dataset ds);
  void stage(const std::string& tenant, model::Dataset ds, std::string_view copy_text);
  SnapshotResult apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& options);
  void discard_snapshot(const std::string& tenant, model::Dataset ds);

  // Export snapshots: keeps the staging table and its finished files when they
  // belong to the snapshot generated at `generated` (a restart resumes), else
  // starts a fresh one. Returns the files already staged (URLs without query).
  std::set<std::string> resume_snapshot(const std::string& tenant, model::Dataset ds, SystemTime generated);

  // The staging table's name, for writers on other connections.
  std::string snapshot_stage(const std::string& tenant, model::Dataset ds) const;

 private:
  std::string target(model::Dataset ds) const;
  void ensure_page_stage(model::Dataset ds);

  std::unique_ptr<Connection> conn_;
  std::string schema_;
  bool page_stage_ready_[2] = {false, false};
};

}  // namespace mdesync::store
