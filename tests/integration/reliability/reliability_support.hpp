#pragma once
// What the crash and fault survival tests share: a simulator without quotas (these
// tests sync many times a minute, quotas have their own tests), the state of a
// tenant's data set as SQL sees it, and a PostgreSQL cluster a test may stop.
#include <cstdint>
#include <string>
#include <vector>

#include "model/dataset.hpp"
#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {

// Simulator flags that switch every quota window off.
std::vector<std::string> without_quotas(std::vector<std::string> more = {});

// A config for the simulator with client quotas far above what a test uses.
ConfigOptions reliability_config(const TempSchema& schema, const std::string& full_via = "json");

// Replaces `http.timeout: 10s` in a config written by write_config.
void set_http_timeout(const std::filesystem::path& config, const std::string& timeout);

// "schema"."table"
std::string in_schema(const TempSchema& schema, const std::string& table);

// The watermark of the tenant's data set as text ("" when never synced).
std::string watermark(const TempSchema& schema, model::Dataset ds, const std::string& tenant = "contoso");

struct RunRow {
  std::int64_t id = 0;
  std::string mode, status, error;
};
// Every sync_runs row of the data set, oldest first.
std::vector<RunRow> runs(const TempSchema& schema, model::Dataset ds);

// The table's current rows against a truth JSON array (the simulator's /_admin/truth).
TruthDiff diff(const TempSchema& schema, model::Dataset ds, const std::string& truth_json);

// Two truth arrays as one: a row that equals a row of either is "in" it.
std::string union_of(const std::string& a, const std::string& b);

std::string dataset_name(model::Dataset ds);

// An integer from the environment, or `fallback` when unset or empty.
long env_long(const char* name, long fallback);

// A PostgreSQL cluster of the test's own (scripts/lib/common.sh's pg_start), so it
// can be stopped and started without disturbing the tests that share the suite's.
class PrivateCluster {
 public:
  PrivateCluster();
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;
  std::string url() const;
  void stop();
  void start();

 private:
  std::string dir_, port_;
};

}  // namespace mdesync::testing
