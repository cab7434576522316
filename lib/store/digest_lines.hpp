#pragma once
// Adds the row_digest column to COPY text on its way to PostgreSQL, and leaves
// out the rows a snapshot repeats unchanged (a known row, see KnownRows): they
// are marked seen, and with `keep_seen` their digests are kept for the file's
// entry in snapshot_files, so a resumed snapshot still knows they were seen.
// Staging a million unchanged rows as marker rows (what mdesync did before
// migration 0007) cost most of an unchanged snapshot's time.
//
// Input: whole COPY lines as the record encoder writes them (tenant first).
// Output: the lines of the rows to stage, with "\t<uuid>" before the newline.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/known_rows.hpp"

namespace mdesync::store {

class LineDigester {
 public:
  // Without `known`, every row is sent in full.
  explicit LineDigester(std::shared_ptr<KnownRows> known, bool keep_seen = false);

  // Appends the digested form of every line in `lines` to `out`. A last line
  // without its newline is taken whole as well.
  void process(std::string_view lines, std::string& out);
  // process() into a buffer the digester keeps and reuses: valid until the next call.
  std::string_view digest(std::string_view lines);

  std::uint64_t unchanged() const { return unchanged_; }
  // With keep_seen: the digests of the rows left out since the last call, as a
  // PostgreSQL uuid[] literal ("{...}"); clears them.
  std::string take_seen();

 private:
  std::shared_ptr<KnownRows> known_;
  bool keep_seen_;
  std::string seen_;  // "uuid,uuid,..."
  std::string buffer_;
  std::uint64_t unchanged_ = 0;
};

}  // namespace mdesync::store
