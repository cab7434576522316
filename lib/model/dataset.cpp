#include "model/dataset.hpp"

namespace mdesync::model {
namespace {

using T = ColumnType;

constexpr Column cpe_columns[] = {
    {"deviceId", "device_id", T::text, true},
    {"rbacGroupName", "rbac_group_name", T::text, false},
    {"deviceName", "device_name", T::text, false},
    {"osPlatform", "os_platform", T::text, false},
    {"softwareVendor", "software_vendor", T::text, true},
    {"softwareName", "software_name", T::text, true},
    {"softwareVersion", "software_version", T::text, true},
    {"numberOfWeaknesses", "number_of_weaknesses", T::integer, false},
    {"diskPaths", "disk_paths", T::text_array, false},
    {"registryPaths", "registry_paths", T::text_array, false},
    {"softwareFirstSeenTimestamp", "software_first_seen_timestamp", T::timestamptz, false},
    {"endOfSupportStatus", "end_of_support_status", T::text, false},
    {"endOfSupportDate", "end_of_support_date", T::timestamptz, false},
};

constexpr Column noncpe_columns[] = {
    {"deviceId", "device_id", T::text, true},
    {"rbacGroupId", "rbac_group_id", T::integer, false},
    {"rbacGroupName", "rbac_group_name", T::text, false},
    {"deviceName", "device_name", T::text, false},
    {"osPlatform", "os_platform", T::text, false},
    {"softwareVendor", "software_vendor", T::text, true},
    {"softwareName", "software_name", T::text, true},
    {"softwareVersion", "software_version", T::text, true},
    {"softwareLastSeenTimestamp", "software_last_seen_timestamp", T::timestamptz, false},
};

constexpr DatasetSpec specs[] = {
    {Dataset::cpe, "cpe", "software_inventory", "/api/machines/SoftwareInventoryByMachine",
     "/api/machines/SoftwareInventoryExport", cpe_columns},
    {Dataset::noncpe, "noncpe", "noncpe_software_inventory", "/api/machines/SoftwareInventoryNoProductCodeByMachine",
     "/api/machines/SoftwareInventoryNonCpeExport", noncpe_columns},
};

}  // namespace

const DatasetSpec& spec(Dataset d) { return specs[d == Dataset::cpe ? 0 : 1]; }

std::optional<Dataset> parse_dataset(std::string_view name) {
  for (const auto& s : specs)
    if (s.name == name) return s.dataset;
  return std::nullopt;
}

}  // namespace mdesync::model
