#pragma once
// The fingerprints of a tenant's current rows, loaded before a full snapshot, so
// rows the snapshot repeats unchanged are never sent in full (see digest_lines.hpp).
// Afterwards, the fingerprints nobody saw are the rows that changed or vanished.
//
// 16 bytes per current row plus one bit; safe to mark from several download threads.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "store/row_digest.hpp"

namespace mdesync::store {

class KnownRows {
 public:
  explicit KnownRows(std::vector<RowDigest> digests);

  // True when `d` is one of the known rows; it then counts as seen.
  bool mark_seen(const RowDigest& d);
  // The known rows not seen yet, in digest order.
  std::vector<RowDigest> unseen() const;
  std::size_t size() const { return digests_.size(); }

 private:
  std::vector<RowDigest> digests_;  // sorted, unique
  std::unique_ptr<std::atomic<std::uint64_t>[]> seen_;
};

}  // namespace mdesync::store
