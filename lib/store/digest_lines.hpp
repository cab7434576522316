#pragma once
// Adds the row_digest column to COPY text on its way to PostgreSQL, and shrinks
// rows a snapshot repeats unchanged to a marker: the tenant, the device id, NULL
// for every other column, and the digest. The marker stays in the staging table
// so a resumed snapshot still knows the row was seen; the merge skips it (its
// other key columns are NULL). The device id stays because Citus places every
// staged row by it and refuses NULL there.
//
// Input: whole COPY lines as the record encoder writes them (tenant first).
// Output: the same lines with "\t<uuid>" before the newline, or markers.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "model/dataset.hpp"
#include "store/known_rows.hpp"

namespace mdesync::store {

class LineDigester {
 public:
  // Without `known`, every row is sent in full.
  LineDigester(model::Dataset ds, std::shared_ptr<KnownRows> known);

  // Appends the digested form of every line in `lines` to `out`. A last line
  // without its newline is taken whole as well.
  void process(std::string_view lines, std::string& out);
  // process() into a buffer the digester keeps and reuses: valid until the next call.
  std::string_view digest(std::string_view lines);

  std::uint64_t unchanged() const { return unchanged_; }

 private:
  std::shared_ptr<KnownRows> known_;
  std::string marker_fields_;  // "\t\N" per column
  std::string buffer_;
  std::uint64_t unchanged_ = 0;
};

}  // namespace mdesync::store
