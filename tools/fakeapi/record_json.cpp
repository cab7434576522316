#include "record_json.hpp"

#include <array>

#include "json_writer.hpp"
#include "time_format.hpp"

namespace mdesync::fakeapi {
namespace {

constexpr int variant_count = 5;

// Per CPE product: its name fragment and its diskPaths/registryPaths arrays for every
// (platform class, variant), already serialized.
struct CpeProductFragments {
  std::string names;  // "softwareVendor":..,"softwareName":..,"softwareVersion":
  std::array<std::array<std::string, variant_count>, 3> disk;
  std::array<std::string, variant_count> registry;
};

std::string array_of(std::initializer_list<std::string_view> items) {
  std::string out = "[";
  bool first = true;
  for (auto s : items) {
    if (s.empty()) continue;
    if (!first) out += ',';
    first = false;
    json::append_string(out, s);
  }
  out += ']';
  return out;
}

std::string names_fragment(std::string_view vendor, std::string_view name) {
  std::string out = "\"softwareVendor\":";
  json::append_string(out, vendor);
  out += ",\"softwareName\":";
  json::append_string(out, name);
  out += ",\"softwareVersion\":";
  return out;
}

const std::vector<CpeProductFragments>& cpe_fragments() {
  static const std::vector<CpeProductFragments> table = [] {
    std::vector<CpeProductFragments> out;
    for (const auto& p : cpe_catalog()) {
      CpeProductFragments f;
      f.names = names_fragment(p.vendor, p.name);
      const std::string_view primary[3] = {p.win_path, p.unix_path, p.mac_path};
      for (int c = 0; c < 3; ++c) {
        const std::string_view second = c == 0 ? std::string_view(p.win_x86_path) : std::string_view();
        f.disk[c][static_cast<int>(PathsVariant::null)] = "null";
        f.disk[c][static_cast<int>(PathsVariant::empty)] = "[]";
        f.disk[c][static_cast<int>(PathsVariant::primary)] = array_of({primary[c]});
        f.disk[c][static_cast<int>(PathsVariant::secondary)] = array_of({second.empty() ? primary[c] : second});
        f.disk[c][static_cast<int>(PathsVariant::both)] = array_of({primary[c], second});
      }
      f.registry[static_cast<int>(PathsVariant::null)] = "null";
      f.registry[static_cast<int>(PathsVariant::empty)] = "[]";
      f.registry[static_cast<int>(PathsVariant::primary)] = array_of({p.registry_path});
      f.registry[static_cast<int>(PathsVariant::secondary)] = array_of({p.registry_wow_path});
      f.registry[static_cast<int>(PathsVariant::both)] = array_of({p.registry_path, p.registry_wow_path});
      out.push_back(std::move(f));
    }
    return out;
  }();
  return table;
}

const std::vector<std::string>& noncpe_fragments() {
  static const std::vector<std::string> table = [] {
    std::vector<std::string> out;
    for (const auto& p : noncpe_catalog()) out.push_back(names_fragment(p.vendor, p.name));
    return out;
  }();
  return table;
}

std::string_view eos_text(EosStatus s) {
  switch (s) {
    case EosStatus::none: return "";
    case EosStatus::eos_version: return "EOS Version";
    case EosStatus::upcoming_eos_version: return "Upcoming EOS Version";
    case EosStatus::eos_software: return "EOS Software";
  }
  return "";
}

}  // namespace

RecordWriter::RecordWriter(const TenantData& tenant) {
  const auto groups = rbac_groups();
  devices_.reserve(tenant.devices().size());
  for (const auto& d : tenant.devices()) {
    const auto& g = groups[d.group];
    DeviceFragments f;
    std::string tail;  // "deviceName":..,"osPlatform":..,
    tail += "\"deviceName\":";
    json::append_string(tail, d.name);
    tail += ",\"osPlatform\":";
    json::append_string(tail, os_platform_name(d.os));
    tail += ',';

    f.cpe_prefix = "{\"deviceId\":";
    json::append_string(f.cpe_prefix, d.id);
    f.cpe_prefix += ",\"rbacGroupName\":";
    json::append_string(f.cpe_prefix, g.name);
    f.cpe_prefix += ',';
    f.cpe_prefix += tail;

    f.noncpe_id = "{\"deviceId\":";
    json::append_string(f.noncpe_id, d.id);
    f.noncpe_id += ",\"rbacGroupId\":";
    json::append_int(f.group_number, g.id);
    f.group_string = '"' + f.group_number + '"';
    f.noncpe_rest = ",\"rbacGroupName\":";
    json::append_string(f.noncpe_rest, g.name);
    f.noncpe_rest += ',';
    f.noncpe_rest += tail;
    f.path_class = is_windows(d.os) ? 0 : d.os == Os::linux ? 1 : 2;
    devices_.push_back(std::move(f));
  }
}

void RecordWriter::cpe(std::string& out, const CpeRecord& r) const {
  const auto& d = devices_[r.device];
  const auto& p = cpe_fragments()[r.product];
  out += d.cpe_prefix;
  out += p.names;
  json::append_string(out, r.version);
  out += ",\"numberOfWeaknesses\":";
  json::append_int(out, r.weaknesses);
  out += ",\"diskPaths\":";
  out += p.disk[d.path_class][static_cast<int>(r.disk)];
  out += ",\"registryPaths\":";
  out += p.registry[static_cast<int>(r.registry)];
  out += ",\"softwareFirstSeenTimestamp\":\"";
  append_date_time(out, r.first_seen);
  out += "\",\"endOfSupportStatus\":";
  json::append_string(out, eos_text(r.eos));
  out += ",\"endOfSupportDate\":";
  if (r.eos_date == no_date) {
    out += "null}";
  } else {
    out += '"';
    append_offset_date_time(out, r.eos_date);
    out += "\"}";
  }
}

void RecordWriter::noncpe(std::string& out, const NonCpeRecord& r, GroupIdStyle style) const {
  const auto& d = devices_[r.device];
  out += d.noncpe_id;
  out += (style == GroupIdStyle::as_served && r.group_id_as_string) ? d.group_string : d.group_number;
  out += d.noncpe_rest;
  out += noncpe_fragments()[r.product];
  json::append_string(out, r.version);
  out += ",\"softwareLastSeenTimestamp\":\"";
  append_last_seen(out, r.last_seen, r.seven_digit_fraction);
  out += "\"}";
}

}  // namespace mdesync::fakeapi
