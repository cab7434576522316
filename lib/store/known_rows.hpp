#pragma once
// The fingerprints of a tenant's current rows, loaded before a full snapshot, so
// rows the snapshot repeats unchanged are never sent in full (see digest_lines.hpp).
// Afterwards, the fingerprints nobody saw are the rows that changed or vanished.
//
// Memory is 8 bytes and a bit per current row (10 million rows: 81 MB): only the
// first 64 bits of each 128-bit digest stay in memory; the whole digests go to
// an unlinked temporary file. A line whose first 64 bits match is taken as seen
// on that evidence alone, so settle() checks every match against the whole
// digest afterwards: per slot of the index, the sum of the matched lines' last 64
// bits must equal the sum over the known digests marked seen. A slot that
// disagrees (two different rows sharing 64 bits, about 3 in a million snapshots
// of 10 million rows, or a row crafted to) returns its seen digests as suspects:
// the snapshot must not be applied (a line was replaced by a marker it does not
// match), see SyncStore::apply_snapshot.
//
// Safe to mark from several download threads.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/row_digest.hpp"

namespace mdesync::store {

class KnownRows {
 public:
  // Digests are added one by one, then seal(); `expected_rows` reserves memory
  // (no reallocation doubling the footprint). The file goes to `spill_directory`
  // (empty: $TMPDIR, else /var/tmp).
  explicit KnownRows(std::size_t expected_rows = 0, const std::string& spill_directory = {});
  // Every digest added and sealed: for tests and small sets.
  explicit KnownRows(const std::vector<RowDigest>& digests);
  ~KnownRows();
  KnownRows(const KnownRows&) = delete;
  KnownRows& operator=(const KnownRows&) = delete;

  // add() never throws for the file (it runs inside a COPY); seal() throws
  // std::runtime_error when the file could not be written.
  void add(const RowDigest& d);
  void seal();

  // A tenant above sync.digest_rows_limit loads only the digests below `bound`
  // (a share of its rows, as digests are uniform): rows from it on are compared
  // by key, like rows without a digest.
  void set_loaded_below(const RowDigest& bound) { loaded_below_ = bound; }
  const std::optional<RowDigest>& loaded_below() const { return loaded_below_; }

  // True when `d` is taken as one of the known rows, seen for the first time:
  // it may then be sent as a marker. A row seen before, or whose first 64 bits
  // two known rows share, is false: it is sent in full, which is always safe.
  bool mark_seen(const RowDigest& d);
  std::size_t size() const { return size_; }

  struct Settled {
    std::uint64_t seen = 0;           // known rows the snapshot repeated unchanged
    std::vector<RowDigest> suspects;  // non-empty: a match did not hold (see above)
  };
  // Passes every known digest not seen (changed or vanished) to `unseen`, in the
  // order they were added, and checks the matches. May be called again.
  Settled settle(const std::function<void(const RowDigest&)>& unseen) const;

 private:
  std::size_t slot_of(std::uint64_t high) const { return slot_bits_ == 0 ? 0 : high >> (64 - slot_bits_); }
  // Position of `high` among the sorted first halves, or npos when absent or shared.
  std::size_t find(std::uint64_t high) const;
  // Whether the known row with these first 64 bits was marked seen.
  bool was_seen(std::uint64_t high) const;
  void read_spill(const std::function<void(const RowDigest&)>& each) const;

  std::vector<std::uint64_t> highs_;  // sorted after seal()
  std::vector<std::uint32_t> slots_;  // slots_[s]: first position of slot s
  unsigned slot_bits_ = 0;
  std::size_t size_ = 0;
  std::optional<RowDigest> loaded_below_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> seen_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> matched_low_sums_;  // per slot
  std::FILE* spill_ = nullptr;
  std::vector<unsigned char> spill_buffer_;
  std::string spill_error_;
};

}  // namespace mdesync::store
