#pragma once
// Scaling out on Citus: the inventory tables and software_changes become
// distributed tables, co-located on device_id; the small bookkeeping tables
// (sync_state, sync_runs, snapshot_files) become reference tables, copied to
// every node, so any join with them stays on the node that holds the rows.
//
// Why device_id: it spreads one large tenant over every worker (distributing on
// the tenant would put a 300,000-device tenant on one node), it is part of every
// table's key so the keys stay enforceable, and all of a device's rows (both data
// sets and its change history) sit on one node, so the merges' joins on the full
// key and the views' per-device questions run on the workers in parallel.
#include <string>
#include <vector>

#include <pqxx/connection_base>

namespace mdesync::store {

// database.distribution: auto (Citus when the database has the citus
// extension), none, citus.
enum class DistributionChoice { automatic, none, citus };

struct DistributionResult {
  bool citus = false;                 // the schema is laid out for Citus
  std::vector<std::string> changed;   // tables distributed or made reference tables now
  std::string left_plain;             // auto: a table whose rows kept the schema plain (not converted unasked)
};

// After migrate(): lays the schema out for Citus when `choice` calls for it.
// Empty tables (a new installation) are distributed right away; an installation
// that already holds rows is converted only when `convert_existing` (`mdesync
// migrate --distribute`): converting copies every row to the workers, so it is
// never done silently. Throws std::runtime_error when `choice` is citus and the
// database has no citus extension, or when rows would need converting unasked;
// with auto such an installation stays plain (see left_plain).
DistributionResult distribute(pqxx::connection_base& conn, const std::string& schema, DistributionChoice choice,
                              bool convert_existing);

// Whether the schema's inventory tables are distributed (the store then writes
// SQL Citus can run on its workers).
bool is_distributed(pqxx::connection_base& conn, const std::string& schema);

}  // namespace mdesync::store
