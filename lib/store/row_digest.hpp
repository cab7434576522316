#pragma once
// A row's fingerprint: the first 128 bits of SHA-256 over its COPY text (every
// column but the tenant). Stored with the row as a uuid, so a full snapshot can
// tell an unchanged row before sending it.
//
// Why SHA-256: the data comes from devices; a fingerprint someone could collide on
// purpose would let a changed row pass as unchanged. With SHA-NI it hashes about
// 1 GB/s, far ahead of what PostgreSQL ingests.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mdesync::store {

struct RowDigest {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  auto operator<=>(const RowDigest&) const = default;
};

RowDigest digest_row(std::string_view copy_fields);

// 8-4-4-4-12 lower-case hex, as PostgreSQL prints a uuid.
void append_uuid(std::string& out, const RowDigest& d);
// Accepts the form append_uuid writes (PostgreSQL's uuid output); nullopt otherwise.
std::optional<RowDigest> parse_uuid(std::string_view text);

}  // namespace mdesync::store
