#pragma once
// What SyncStore's parts (sync_store.cpp, run_journal.cpp, page_transaction.cpp,
// snapshot_lifecycle.cpp) share. Internal to the store: nothing above it
// includes this (it brings libpqxx).
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <pqxx/field>
#include <pqxx/row>
#include <pqxx/transaction>
#include <pqxx/transaction_base>

#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "store/copy_in.hpp"
#include "store/digest_lines.hpp"
#include "store/merge_sql.hpp"
#include "store/sync_store.hpp"

namespace mdesync::store {

// A timestamptz column read back as UTC (the session's zone is UTC).
std::optional<SystemTime> as_time(const pqxx::field& f);

// "tenant/dataset": the key of per-pull caches.
std::string tenant_dataset(const std::string& tenant, model::Dataset ds);

// Whether a sync of (tenant, ds) ever committed, asked inside `tx`: before that,
// merges record no change events (the first sync is the baseline, not millions
// of installs). `known` remembers the answer once true (sync_state rows are never
// deleted; a rolled-back first sync must not count).
bool has_baseline(pqxx::transaction_base& tx, const std::string& schema, std::set<std::string>& known,
                  const std::string& tenant, model::Dataset ds);

// Where merges record what changed, and keep the devices.
sql::ChangeLog change_log(const std::string& schema);

// The transaction's time (now()) as an SQL literal: see sql::upsert().
std::string transaction_time(pqxx::transaction_base& tx);

// SQL (a select list) that, on a database with Citus, makes the session's COPY
// into a distributed stage use one connection per worker: by default Citus
// opens up to 16 per worker, each a new backend (and TLS handshake) per
// session, which cost a staged file of 1,400 rows over 32 shards 1.3 s instead
// of 0.13 s. The coordinator routes every row anyway, so more connections add
// nothing. Harmless without Citus (it sets nothing).
inline constexpr const char* one_connection_per_worker_on_citus =
    "set_config('citus.max_adaptive_executor_pool_size', '1', false)"
    " FROM pg_extension WHERE extname = 'citus'";

// Creates the unlogged staging table `stage` for `ds` (a crash only loses what is
// downloaded again, and staged rows cost no WAL); with `citus`, distributed and
// co-located with `target`.
void create_stage(pqxx::transaction_base& tx, const std::string& stage, model::Dataset ds, const std::string& target,
                  bool citus);

struct MergeCounts {
  std::uint64_t upserted = 0, removed = 0, changes = 0;
};

// One sql::merge() of `stage` into the data set's table, inside `tx`, with the
// parameters its steps take (`removed_at` only with steps.remove). When it
// recorded changes, it also NOTIFYs changes_channel with {schema, tenant,
// dataset, run_id, observed_at, changes: {kind: count}} in the same
// transaction: PostgreSQL delivers it when that commits, never when it rolls
// back. A merge that recorded nothing notifies nobody.
MergeCounts merge_rows(pqxx::transaction_base& tx, const std::string& schema, const std::string& stage,
                       const std::string& tenant, model::Dataset ds, const sql::MergeSteps& steps,
                       const std::string& removed_at, std::optional<std::int64_t> run_id);

// Moves the watermark of (tenant, ds) and stamps the sync time, inside `tx`: the
// transaction that commits the rows the watermark covers.
void advance_watermark(pqxx::work& tx, const std::string& schema, const std::string& tenant, model::Dataset ds,
                       const WatermarkUpdate& u);

// One page in its transaction (see SyncStore::open_page).
struct SyncStore::OpenPage {
  std::string tenant;
  model::Dataset ds;
  RunMode mode;
  std::string stage;
  pqxx::work tx;
  std::unique_ptr<CopyIn> copy;
  LineDigester digester;
  bool wrote = false;

  OpenPage(Connection& conn, std::string t, model::Dataset d, RunMode m, std::string st,
           std::shared_ptr<KnownRows> known)
      : tenant(std::move(t)), ds(d), mode(m), stage(std::move(st)), tx(conn), digester(d, std::move(known)) {}
};

}  // namespace mdesync::store
