#pragma once
// Data synced from the simulator through the binary, for the README's questions
// and the Grafana dashboard's panels: a baseline full sync, then changes in the
// tenant (installs, uninstalls, upgrades, a device that vanishes, software the
// tenant never had) and a full sync, the same snapshot again, more changes and an
// incremental sync. One lab device runs software whose end of support passed
// three days ago.
#include <string>

#include "support/fake_api.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {

class SimulatorData {
 public:
  explicit SimulatorData(const std::string& prefix);
  // Runs the syncs and checks what they record; use with ASSERT_NO_FATAL_FAILURE.
  void sync();
  const std::string& schema() const { return schema_.name(); }
  // `sql` with the schema mde renamed to this data's schema.
  std::string in_schema(const std::string& sql) const;

 private:
  TempSchema schema_;
  FakeApi api_;
  TempDir dir_;
};

}  // namespace mdesync::testing
