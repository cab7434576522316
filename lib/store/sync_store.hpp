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

#include <pqxx/transaction_base>

#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "store/connection.hpp"
#include "store/merge_sql.hpp"

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
  std::uint64_t changes = 0;  // rows written to software_changes
  std::uint64_t removal_candidates = 0;
  std::uint64_t active_before = 0;
  bool guarded = false;
};

// One sync_runs row, as `mdesync status` shows it.
struct RunRecord {
  std::int64_t id = 0;
  std::string mode;
  std::string status;
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> finished_at;
  RunCounts counts;
  std::string error;
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
  std::optional<RunRecord> last_run(const std::string& tenant, model::Dataset ds);

  // Inserts a 'running' row (its own transaction) and returns its id. Rows left
  // 'running' by a crashed run of the same tenant and data set become
  // 'abandoned' (the caller holds the lock, so nobody else is running it).
  std::int64_t begin_run(const std::string& tenant, model::Dataset ds, RunMode mode);
  void finish_run(std::int64_t run_id, RunStatus status, const RunCounts& counts, const std::string& error,
                  const RunDetails& details = {});

  // Incremental: the rows (COPY text) are upserted in one transaction; with
  // `advance`, the watermark moves in that same transaction. New and returning
  // keys are recorded in software_changes (with run_id) in that transaction too.
  std::uint64_t upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                             const std::optional<WatermarkUpdate>& advance,
                             std::optional<std::int64_t> run_id = std::nullopt);

  // Full: rows are staged (committed, invisible to readers) page by page, then
  // applied in one transaction, so readers see the old state or the new one.
  void begin_snapshot(const std::string& tenant, model::Dataset ds);
  void stage(const std::string& tenant, model::Dataset ds, std::string_view copy_text);
  // What changed is recorded in software_changes with run_id, in the same transaction.
  SnapshotResult apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& options,
                                std::optional<std::int64_t> run_id = std::nullopt);
  void discard_snapshot(const std::string& tenant, model::Dataset ds);

  // Export snapshots: keeps the staging table and its finished files when they
  // belong to the snapshot generated at `generated` (a restart resumes), else
  // starts a fresh one. Returns the files already staged (URLs without query).
  std::set<std::string> resume_snapshot(const std::string& tenant, model::Dataset ds, SystemTime generated);

  // The staging table's name, for writers on other connections.
  std::string snapshot_stage(const std::string& tenant, model::Dataset ds) const;

 private:
  std::string target(model::Dataset ds) const;
  // Whether a sync of (tenant, ds) ever committed: before that, merges record no
  // change events (the first sync is the baseline, not millions of installs).
  bool has_baseline(pqxx::transaction_base& tx, const std::string& tenant, model::Dataset ds);
  void ensure_page_stage(model::Dataset ds);
  sql::ChangeLog change_log() const;

  std::unique_ptr<Connection> conn_;
  std::string schema_;
  bool page_stage_ready_[2] = {false, false};
  std::set<std::string> baselines_;  // "tenant/dataset" known to have synced (sync_state rows are never deleted)
};

}  // namespace mdesync::store
