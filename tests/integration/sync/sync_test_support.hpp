#pragma once
// What the sync tests share: a table's name in a test schema, and the config of
// a tenant synced through the simulator on one path or the other.
#include <string>

#include "support/fake_api.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {

inline std::string in_schema(const TempSchema& s, const std::string& table) {
  return "\"" + s.name() + "\"." + table;
}

// Pages of 1000 records, two export files at once; full_via "json" or "export".
inline ConfigOptions config_for(const TempSchema& schema, const std::string& full_via) {
  ConfigOptions o{.schema = schema.name(), .full_via = full_via, .page_size = 1000};
  o.extra_sync = "  download_concurrency: 2\n";
  return o;
}

}  // namespace mdesync::testing
