#pragma once
// Records serialized exactly as the API sends them (field order and spelling as in
// /work/shared/api). Everything that is the same for many records (a device's fields,
// a product's names and paths) is escaped once and cached, so writing a page is mostly
// memcpy; per record only the version, numbers and timestamps are formatted.
#include <string>
#include <vector>

#include "inventory.hpp"

namespace mdesync::fakeapi {

enum class GroupIdStyle {
  as_served,      // some records carry rbacGroupId as a string, like the real service
  always_number,  // the ground truth: what a correct client stores
};

class RecordWriter {
 public:
  // Caches per-device fragments; devices never change after generation.
  explicit RecordWriter(const TenantData& tenant);

  void cpe(std::string& out, const CpeRecord& r) const;
  void noncpe(std::string& out, const NonCpeRecord& r, GroupIdStyle style) const;

 private:
  struct DeviceFragments {
    std::string cpe_prefix;        // {"deviceId":..,"rbacGroupName":..,"deviceName":..,"osPlatform":..,
    std::string noncpe_id;         // {"deviceId":..,"rbacGroupId":
    std::string group_number;      // 11
    std::string group_string;      // "11"
    std::string noncpe_rest;       // ,"rbacGroupName":..,"deviceName":..,"osPlatform":..,
    int path_class;                // 0 Windows, 1 Linux, 2 macOS
  };
  std::vector<DeviceFragments> devices_;
};

}  // namespace mdesync::fakeapi
