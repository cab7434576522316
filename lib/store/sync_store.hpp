#pragma once
// Everything a pull writes: runs, staged rows, merges and the watermark.
// Invariant: the watermark only moves inside the transaction that commits the
// rows it covers; a failed pull leaves it where it was.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/stall_watch.hpp"
#include "model/dataset.hpp"
#include "model/run.hpp"
#include "store/known_rows.hpp"
#include "store/unit_writer.hpp"

namespace mdesync::store {

class Connection;  // store/connection.hpp: libpqxx stays inside the store

// Every commit that recorded changes in software_changes notifies this channel
// (LISTEN mdesync_changes), from inside the committing transaction.
inline constexpr std::string_view changes_channel = "mdesync_changes";

// Kept in the model (the scheduler decides from them without the store).
using model::RunMode;
using model::RunStatus;
using model::SyncState;
using model::to_string;

struct RunCounts {
  std::uint64_t received = 0;
  std::uint64_t upserted = 0;
  std::uint64_t removed = 0;
  std::uint64_t rejected = 0;
  std::uint64_t altered = 0;  // stored with a value altered to fit (extra_fields._original)
};

// A rejected record, for sync_runs.rejections: where it was and why.
struct RejectionNote {
  std::string where;  // "page 3, record 17" or "file <name>, line 5"
  std::string reason;
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
  std::map<std::string, std::uint64_t> undocumented_fields;  // name as sent -> records
  std::vector<RejectionNote> rejections;                     // the first ones
};

struct SnapshotResult {
  std::uint64_t upserted = 0;
  std::uint64_t removed = 0;
  std::uint64_t changes = 0;  // rows written to software_changes
  std::uint64_t removal_candidates = 0;
  std::uint64_t active_before = 0;
  std::uint64_t unchanged = 0;  // rows the snapshot repeated unchanged (never sent in full)
  bool guarded = false;
  bool first_load = false;      // loaded with the new-tenant fast path
  bool indexes_rebuilt = false; // ... into an empty table, its indexes built after the rows
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

  // For migrations and the tools that need the session itself (store/connection.hpp).
  Connection& connection() { return *conn_; }
  // A stall of `watch` breaks this store's connection loose; its operations report
  // progress to it (see Connection::attach).
  void attach(StallWatch* watch);
  // Why a stall broke the connection loose, if it did.
  std::optional<std::string> gave_up() const;
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
  // keys are recorded in software_changes (with run_id), the devices in
  // device_presence, and a NOTIFY on changes_channel sent, in that transaction too.
  std::uint64_t upsert_batch(const std::string& tenant, model::Dataset ds, std::string_view copy_text,
                             const std::optional<WatermarkUpdate>& advance,
                             std::optional<std::int64_t> run_id = std::nullopt);

  // One page streamed while it downloads, in one transaction: open_page, any
  // number of write_page (COPY text, whole lines), then close_page, or
  // abort_page to drop everything the page wrote. Incremental pages are upserted
  // by close_page (with `advance`, the watermark moves in that transaction);
  // full pages are staged for apply_snapshot. Returns the rows upserted. When
  // write_page or close_page throws, the page is already aborted.
  void open_page(const std::string& tenant, model::Dataset ds, RunMode mode);
  void write_page(std::string_view copy_text);
  std::uint64_t close_page(const std::optional<WatermarkUpdate>& advance,
                           std::optional<std::int64_t> run_id = std::nullopt);
  void abort_page() noexcept;

  // Full: rows are staged (committed, invisible to readers) page by page, then
  // applied in one transaction, so readers see the old state or the new one.
  // When the tenant already synced, the digests of its current rows are loaded
  // first (16 bytes a row): staged rows it repeats unchanged shrink to markers.
  void begin_snapshot(const std::string& tenant, model::Dataset ds);
  void stage(const std::string& tenant, model::Dataset ds, std::string_view copy_text);
  // What changed is recorded in software_changes with run_id (a device the
  // snapshot lists nothing of as device_gone), the devices kept and the change
  // notified on changes_channel, all in the same transaction.
  SnapshotResult apply_snapshot(const std::string& tenant, model::Dataset ds, const SnapshotOptions& options,
                                std::optional<std::int64_t> run_id = std::nullopt);
  void discard_snapshot(const std::string& tenant, model::Dataset ds);

  // Export snapshots: keeps the staging table and its finished files when they
  // belong to the snapshot generated at `generated` (a restart resumes), else
  // starts a fresh one. Returns the files already staged (URLs without query).
  std::set<std::string> resume_snapshot(const std::string& tenant, model::Dataset ds, SystemTime generated);

  // The staging table's name, for writers on other connections.
  std::string snapshot_stage(const std::string& tenant, model::Dataset ds) const;
  // At most about this many known rows are loaded (8 bytes each); a tenant with
  // more loads the digests of a share of its rows that size and compares the
  // rest by key (config sync.digest_rows_limit; 0: no digests).
  void set_known_rows_limit(std::size_t rows) { known_rows_limit_ = rows; }
  // The open snapshot's known rows (null when the tenant has none), for writers
  // on other connections; see LineDigester.
  std::shared_ptr<KnownRows> snapshot_known_rows(const std::string& tenant, model::Dataset ds) const;

 private:
  // The parts below are defined by concept: sync_store.cpp (the session, names,
  // the baseline), run_journal.cpp (locks, sync_runs, sync_state),
  // page_transaction.cpp (one page in one transaction), snapshot_lifecycle.cpp
  // (stage, compare, apply or discard a full snapshot).
  std::string target(model::Dataset ds) const;
  // Whether the schema's tables are distributed on Citus (asked once): stages are
  // then distributed tables co-located with their targets, so the merges' joins
  // run on the workers, and merges are written for Citus (see sql::MergeSteps).
  bool on_citus();
  void ensure_page_stage(model::Dataset ds);
  // Where an incremental page stages: a temporary table, or on Citus (which
  // cannot distribute one) the tenant's own distributed table, emptied per page.
  std::string page_stage(const std::string& tenant, model::Dataset ds);
  // close_page's work: the COPY's end, the upsert, the watermark, the commit.
  std::uint64_t commit_page(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id);
  // Loads the digests of the tenant's current rows, when it has a baseline.
  void load_known_rows(const std::string& tenant, model::Dataset ds);
  // After a digest collision (see KnownRows::settle): the suspect rows lose their
  // digest and the snapshot is discarded.
  void forget_suspect_digests(const std::string& tenant, model::Dataset ds, const std::vector<RowDigest>& suspects);
  std::uint64_t staged_rows_estimate(const std::string& stage);

  struct OpenPage;

  std::unique_ptr<Connection> conn_;
  std::string schema_;
  std::unique_ptr<OpenPage> page_;
  bool page_stage_ready_[2] = {false, false};
  std::set<std::string> citus_page_stages_;  // created in this session
  std::optional<bool> citus_;
  // "tenant/dataset" known to have synced (sync_state rows are never deleted);
  // see has_baseline in store/sync_store_parts.hpp.
  std::set<std::string> baselines_;
  std::map<std::string, std::shared_ptr<KnownRows>> known_;  // "tenant/dataset" -> the open snapshot's rows
  std::size_t known_rows_limit_ = 12'000'000;
};

// A pull's pages as units of work: each page in SyncStore's page transaction.
class PageWriter : public UnitWriter {
 public:
  PageWriter(SyncStore& store, std::string tenant, model::Dataset ds, RunMode mode)
      : store_(store), tenant_(std::move(tenant)), ds_(ds), mode_(mode) {}
  void begin() override { store_.open_page(tenant_, ds_, mode_); }
  void write(std::string_view copy_text) override { store_.write_page(copy_text); }
  void abort() noexcept override { store_.abort_page(); }
  // SyncStore::close_page: returns the rows upserted.
  std::uint64_t commit(const std::optional<WatermarkUpdate>& advance, std::optional<std::int64_t> run_id) {
    return store_.close_page(advance, run_id);
  }

 private:
  SyncStore& store_;
  std::string tenant_;
  model::Dataset ds_;
  RunMode mode_;
};

}  // namespace mdesync::store
