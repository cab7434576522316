#pragma once
// One tenant's devices and both software data sets, generated deterministically from
// (tenant id, seed) and mutated on request.
//
// Invariant: each record vector is sorted by its key (deviceId, softwareVendor,
// softwareName, softwareVersion) compared byte-wise, and holds each key once. Keyset
// paging (paging.hpp) depends on it. The order is cheap to keep because devices are
// stored sorted by id and the catalogs sorted by (vendor, name), so the key order is
// (device index, product index, version).
//
// Not synchronized: the service guards a TenantData with a shared_mutex.
#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "catalog.hpp"
#include "core/clock.hpp"

namespace mdesync::fakeapi {

struct Device {
  std::string id;    // 40 lowercase hex characters
  std::string name;  // lowercase FQDN or host name
  Os os;
  std::uint8_t group;  // index into rbac_groups()
};

// Fields both data sets share; together with the catalog they give the record key.
struct RecordBase {
  std::uint32_t device;   // index into TenantData::devices()
  std::uint16_t product;  // index into the data set's catalog
  std::string version;
  SystemTime changed_at;  // internal: what sinceTime filters on; never serialized
};

enum class PathsVariant : std::uint8_t { null, empty, primary, secondary, both };
enum class EosStatus : std::uint8_t { none, eos_version, upcoming_eos_version, eos_software };

struct CpeRecord : RecordBase {
  PathsVariant disk;
  PathsVariant registry;
  EosStatus eos;
  std::int32_t weaknesses;
  std::int64_t first_seen;  // unix seconds
  std::int64_t eos_date;    // unix seconds; no_date means null
};

struct NonCpeRecord : RecordBase {
  std::int64_t last_seen;       // 100 ns ticks since the epoch
  bool seven_digit_fraction;    // "...34.8476880" instead of "...12.271"
  bool group_id_as_string;      // "rbacGroupId":"11", as the real API occasionally sends
};

inline constexpr std::int64_t no_date = INT64_MIN;

// The key as clients see it, for skip tokens and mutation reports.
struct RecordKey {
  std::string device_id, vendor, name, version;
  auto operator<=>(const RecordKey&) const = default;
};

struct GeneratorOptions {
  std::uint32_t devices = 100;
  std::uint64_t seed = 1;
  double cpe_per_device = 20;    // mean
  double noncpe_per_device = 8;  // mean
};

struct MutationRequest {
  std::uint32_t installs = 0;
  std::uint32_t uninstalls = 0;
  std::uint32_t upgrades = 0;
  std::uint32_t reassess = 0;  // CPE: new weakness count in place (same key); non-CPE: new last-seen
  std::uint64_t seed = 0;
};

struct DatasetChanges {
  std::vector<RecordKey> installed;
  std::vector<RecordKey> uninstalled;
  std::vector<std::pair<RecordKey, RecordKey>> upgraded;  // old key -> new key
  std::vector<RecordKey> reassessed;
};

struct MutationResult {
  DatasetChanges cpe;
  DatasetChanges noncpe;
};

class TenantData {
 public:
  // Records get changed_at spread over the 30 days before `start`; everything that is
  // serialized depends only on (tenant_id, options), never on `start`.
  TenantData(std::string tenant_id, const GeneratorOptions& options, SystemTime start);

  const std::string& tenant_id() const { return tenant_id_; }
  const std::vector<Device>& devices() const { return devices_; }
  const std::vector<CpeRecord>& cpe() const { return cpe_; }
  const std::vector<NonCpeRecord>& noncpe() const { return noncpe_; }
  // Bumped by every mutation that changed something; exports compare it.
  std::uint64_t data_version() const { return data_version_; }

  // Applies the counts to both data sets; changed records get changed_at = now.
  MutationResult mutate(const MutationRequest& request, SystemTime now);

  RecordKey key_of(const CpeRecord& r) const;
  RecordKey key_of(const NonCpeRecord& r) const;

  // Index of the first record whose key is greater than `key` (keyset continuation).
  std::size_t first_after(const std::vector<CpeRecord>& records, const RecordKey& key) const;
  std::size_t first_after(const std::vector<NonCpeRecord>& records, const RecordKey& key) const;

 private:
  std::string tenant_id_;
  std::uint64_t tenant_seed_;
  std::vector<Device> devices_;
  std::vector<CpeRecord> cpe_;
  std::vector<NonCpeRecord> noncpe_;
  std::uint64_t data_version_ = 0;
  std::uint64_t mutations_ = 0;
};

// Compares record keys by (device index, product index, version).
inline bool key_less(const RecordBase& a, const RecordBase& b) {
  if (a.device != b.device) return a.device < b.device;
  if (a.product != b.product) return a.product < b.product;
  return a.version < b.version;
}

// The version after `version` in the catalog, or `version` with its last number incremented.
std::string next_version(const std::vector<std::string_view>& catalog_versions, std::string_view version);

}  // namespace mdesync::fakeapi
