#pragma once
// The static world the generator draws from: operating systems, RBAC groups and the
// software catalogs. Catalog indices are sorted by (vendor, name), so comparing two
// product indices orders records exactly as comparing their vendor and name strings
// byte-wise would; inventory.hpp relies on that for its keyset order.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::fakeapi {

enum class Os : std::uint8_t { windows10, windows11, server2019, server2022, linux, macos };
inline constexpr int os_count = 6;
std::string_view os_platform_name(Os os);
bool is_windows(Os os);

// Bit per Os, for "where can this product be installed".
using OsMask = std::uint8_t;
constexpr OsMask os_bit(Os os) { return static_cast<OsMask>(1u << static_cast<unsigned>(os)); }

struct RbacGroup {
  std::int64_t id;
  std::string_view name;
};
std::span<const RbacGroup> rbac_groups();

struct CpeProduct {
  std::string_view vendor;
  std::string_view name;
  std::vector<std::string_view> versions;  // oldest first
  OsMask os;
  bool os_itself;       // the operating system record (windows_10, macos, ...)
  bool eos_software;    // the whole product is out of support (flash_player, silverlight)
  std::string win_path;     // "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
  std::string win_x86_path; // the same under Program Files (x86), or empty
  std::string unix_path;    // Linux binary path
  std::string mac_path;     // macOS bundle path
  std::string registry_path;        // HKEY_LOCAL_MACHINE\SOFTWARE\...\Uninstall\{GUID}
  std::string registry_wow_path;    // the WOW6432Node spelling
};

struct NonCpeProduct {
  std::string_view vendor;
  std::string_view name;
  std::vector<std::string_view> versions;
  OsMask os;
};

const std::vector<CpeProduct>& cpe_catalog();
const std::vector<NonCpeProduct>& noncpe_catalog();

// The operating systems' own CPE products for an Os (indices into cpe_catalog()):
// one for Windows and macOS, several distributions for Linux.
const std::vector<std::uint16_t>& os_products(Os os);

}  // namespace mdesync::fakeapi
