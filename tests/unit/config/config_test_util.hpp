#pragma once
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "support/scoped_env.hpp"

namespace mdesync::config::test {

// Lines 1-6: a valid database section and a tenant without its secret line.
inline const std::string head =
    "database:\n"                                             // 1
    "  url: postgresql://mdesync@localhost:5432/mde\n"        // 2
    "tenants:\n"                                              // 3
    "  - name: contoso\n"                                     // 4
    "    tenant_id: 11111111-2222-3333-4444-555555555555\n"   // 5
    "    client_id: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\n";  // 6

// A complete valid document, lines 1-7; a section a test appends starts on line 8.
inline const std::string base = head + "    client_secret_env: MDESYNC_TEST_SECRET\n";  // 7

// The tenant's remaining keys, from line 7 on.
inline std::string tenant_doc(const std::string& lines_from_7) { return head + lines_from_7; }

// The problems load_string reports, or none when it loads.
inline std::vector<std::string> problems_of(const std::string& yaml) {
  try {
    (void)load_string(yaml, "config.yaml");
  } catch (const ConfigError& e) {
    return e.problems();
  }
  return {};
}

using mdesync::testing::ScopedEnv;

}  // namespace mdesync::config::test
