#include "store/known_rows.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace mdesync::store {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);
// The file is this process's own, so a digest goes in as it is in memory.
constexpr std::size_t record_size = sizeof(RowDigest);
static_assert(record_size == 16 && std::is_trivially_copyable_v<RowDigest>);
constexpr std::size_t spill_buffer_size = 1 << 20;

// An unlinked file of its own: nothing to clean up after a crash, nobody else reads it.
std::FILE* open_spill(const std::string& directory) {
  std::string dir = directory;
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp && *tmp ? tmp : "/var/tmp";
  }
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    // A file system without O_TMPFILE: create and unlink at once.
    std::string path = dir + "/mdesync-digests-XXXXXX";
    fd = ::mkstemp(path.data());
    if (fd >= 0) ::unlink(path.c_str());
  }
  if (fd < 0) throw std::runtime_error("cannot create a temporary file in " + dir + ": " + std::strerror(errno));
  std::FILE* f = ::fdopen(fd, "w+b");
  if (!f) {
    ::close(fd);
    throw std::runtime_error(std::string("cannot open the temporary digest file: ") + std::strerror(errno));
  }
  return f;
}

}  // namespace

KnownRows::KnownRows(std::size_t expected_rows, const std::string& spill_directory)
    : spill_(open_spill(spill_directory)) {
  highs_.reserve(expected_rows);
  spill_buffer_.reserve(spill_buffer_size);
}

KnownRows::KnownRows(const std::vector<RowDigest>& digests) : KnownRows(digests.size()) {
  for (const auto& d : digests) add(d);
  seal();
}

KnownRows::~KnownRows() {
  if (spill_) std::fclose(spill_);
}

void KnownRows::add(const RowDigest& d) {
  highs_.push_back(d.high);
  if (!spill_error_.empty()) return;
  const auto* record = reinterpret_cast<const unsigned char*>(&d);
  spill_buffer_.insert(spill_buffer_.end(), record, record + record_size);
  if (spill_buffer_.size() >= spill_buffer_size) {
    // Not thrown here: add() runs inside a COPY, which must end normally.
    if (std::fwrite(spill_buffer_.data(), 1, spill_buffer_.size(), spill_) != spill_buffer_.size())
      spill_error_ = std::string("writing the temporary digest file: ") + std::strerror(errno);
    spill_buffer_.clear();
  }
}

void KnownRows::seal() {
  if (!spill_error_.empty()) throw std::runtime_error(spill_error_);
  if (!spill_buffer_.empty() &&
      std::fwrite(spill_buffer_.data(), 1, spill_buffer_.size(), spill_) != spill_buffer_.size())
    throw std::runtime_error(std::string("writing the temporary digest file: ") + std::strerror(errno));
  if (std::fflush(spill_) != 0)
    throw std::runtime_error(std::string("writing the temporary digest file: ") + std::strerror(errno));
  std::vector<unsigned char>().swap(spill_buffer_);
  highs_.shrink_to_fit();
  std::sort(highs_.begin(), highs_.end());
  size_ = highs_.size();
  // About 8 to 16 rows a slot, at most 2^18 slots (1 MB of index, 2 MB of sums).
  const unsigned width = size_ < 16 ? 0 : static_cast<unsigned>(std::bit_width(size_ / 8)) - 1;
  slot_bits_ = std::min(width, 18u);
  const std::size_t slots = std::size_t{1} << slot_bits_;
  slots_.assign(slots + 1, 0);
  std::size_t pos = 0;
  for (std::size_t s = 0; s < slots; ++s) {
    slots_[s] = static_cast<std::uint32_t>(pos);
    while (pos < size_ && slot_of(highs_[pos]) == s) ++pos;
  }
  slots_[slots] = static_cast<std::uint32_t>(size_);
  const std::size_t words = (size_ + 63) / 64;
  seen_ = std::make_unique<std::atomic<std::uint64_t>[]>(words);
  for (std::size_t i = 0; i < words; ++i) seen_[i].store(0, std::memory_order_relaxed);
  matched_low_sums_ = std::make_unique<std::atomic<std::uint64_t>[]>(slots);
  for (std::size_t s = 0; s < slots; ++s) matched_low_sums_[s].store(0, std::memory_order_relaxed);
}

std::size_t KnownRows::find(std::uint64_t high) const {
  const std::size_t s = slot_of(high);
  const auto first = highs_.begin() + slots_[s];
  const auto last = highs_.begin() + slots_[s + 1];
  const auto it = std::lower_bound(first, last, high);
  if (it == last || *it != high) return npos;
  if (std::next(it) != last && *std::next(it) == high) return npos;  // shared: not a key
  return static_cast<std::size_t>(it - highs_.begin());
}

bool KnownRows::mark_seen(const RowDigest& d) {
  if (size_ == 0) return false;
  const std::size_t i = find(d.high);
  if (i == npos) return false;
  const std::uint64_t bit = std::uint64_t{1} << (i % 64);
  if (seen_[i / 64].fetch_or(bit, std::memory_order_relaxed) & bit) return false;
  matched_low_sums_[slot_of(d.high)].fetch_add(d.low, std::memory_order_relaxed);
  return true;
}

bool KnownRows::was_seen(std::uint64_t high) const {
  const std::size_t i = find(high);
  return i != npos && (seen_[i / 64].load(std::memory_order_relaxed) >> (i % 64) & 1);
}

void KnownRows::read_spill(const std::function<void(const RowDigest&)>& each) const {
  std::vector<unsigned char> buffer(spill_buffer_size);
  const int fd = ::fileno(spill_);
  off_t offset = 0;
  std::size_t have = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer.data() + have, buffer.size() - have, offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("reading the temporary digest file: ") + std::strerror(errno));
    }
    if (n == 0) break;
    offset += n;
    have += static_cast<std::size_t>(n);
    const std::size_t whole = have - have % record_size;
    for (std::size_t p = 0; p < whole; p += record_size) {
      RowDigest d;
      std::memcpy(&d, buffer.data() + p, record_size);
      each(d);
    }
    std::memmove(buffer.data(), buffer.data() + whole, have - whole);
    have -= whole;
  }
}

KnownRows::Settled KnownRows::settle(const std::function<void(const RowDigest&)>& unseen) const {
  Settled out;
  const std::size_t slots = slots_.size() - 1;
  std::vector<std::uint64_t> known_low_sums(slots, 0);
  read_spill([&](const RowDigest& d) {
    if (was_seen(d.high)) {
      known_low_sums[slot_of(d.high)] += d.low;
      ++out.seen;
    } else {
      unseen(d);
    }
  });
  std::vector<bool> disagrees(slots, false);
  bool any = false;
  for (std::size_t s = 0; s < slots; ++s)
    if (known_low_sums[s] != matched_low_sums_[s].load(std::memory_order_relaxed)) disagrees[s] = any = true;
  if (any)
    read_spill([&](const RowDigest& d) {
      if (disagrees[slot_of(d.high)] && was_seen(d.high)) out.suspects.push_back(d);
    });
  return out;
}

}  // namespace mdesync::store
