#include "store/known_rows.hpp"

#include <algorithm>

namespace mdesync::store {

KnownRows::KnownRows(std::vector<RowDigest> digests) : digests_(std::move(digests)) {
  std::sort(digests_.begin(), digests_.end());
  digests_.erase(std::unique(digests_.begin(), digests_.end()), digests_.end());
  const std::size_t words = (digests_.size() + 63) / 64;
  seen_ = std::make_unique<std::atomic<std::uint64_t>[]>(words);
  for (std::size_t i = 0; i < words; ++i) seen_[i].store(0, std::memory_order_relaxed);
}

bool KnownRows::mark_seen(const RowDigest& d) {
  const auto it = std::lower_bound(digests_.begin(), digests_.end(), d);
  if (it == digests_.end() || *it != d) return false;
  const auto i = static_cast<std::size_t>(it - digests_.begin());
  seen_[i / 64].fetch_or(std::uint64_t{1} << (i % 64), std::memory_order_relaxed);
  return true;
}

std::vector<RowDigest> KnownRows::unseen() const {
  std::vector<RowDigest> out;
  for (std::size_t i = 0; i < digests_.size(); ++i)
    if ((seen_[i / 64].load(std::memory_order_relaxed) >> (i % 64) & 1) == 0) out.push_back(digests_[i]);
  return out;
}

}  // namespace mdesync::store
