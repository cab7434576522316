#pragma once
// Stages one export file on its own connection: COPY runs while the file
// downloads, and the rows commit together with the record that the file is
// done. A file that fails half way leaves nothing behind.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/stall_watch.hpp"
#include "model/dataset.hpp"
#include "store/known_rows.hpp"
#include "store/unit_writer.hpp"

namespace mdesync::store {

class SnapshotFileWriter : public UnitWriter {
 public:
  // `known`: the snapshot's known rows (SyncStore::snapshot_known_rows), or null.
  SnapshotFileWriter(const std::string& database_url, std::string schema, std::string tenant, model::Dataset ds,
                     std::string stage_table, std::shared_ptr<KnownRows> known);
  ~SnapshotFileWriter();
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // Opens a transaction and a COPY into the staging table.
  void begin() override;
  void write(std::string_view copy_text) override;
  // Ends the COPY, records `file` as staged for the snapshot, and commits.
  void commit(const std::string& file, SystemTime generated, std::uint64_t rows, std::uint64_t rejected);
  // A stall of `watch` breaks this writer's connection loose (Connection::attach).
  void attach(StallWatch* watch);
  // Rolls the open file back (nothing of it stays staged).
  void abort() noexcept override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdesync::store
