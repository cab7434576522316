#pragma once
// Integration tests run against the real PostgreSQL that scripts/test starts.
// A missing MDESYNC_TEST_DATABASE_URL is a failure, never a skip.
#include <pqxx/pqxx>
#include <string>

namespace mdesync::testing {

// Whether this run's database is the Citus cluster: ctest runs the suites that
// must hold on both back ends (sync, snapshot, kill -9, history, views) once
// more, under the "Citus/" prefix, with MDESYNC_TEST_BACKEND=citus (see
// mdesync_test's CITUS_FILTER in tests/CMakeLists.txt).
bool on_citus_backend();

// The URL from MDESYNC_TEST_DATABASE_URL, or on the Citus back end the
// coordinator's; fails the current test (and throws) when unset.
std::string database_url();

// The coordinator of the throwaway Citus cluster (coordinator and two workers)
// scripts/test starts, from MDESYNC_TEST_CITUS_URL; fails like database_url().
std::string citus_url();

// A uniquely named schema dropped (with everything in it) when the object dies.
class TempSchema {
 public:
  explicit TempSchema(const std::string& prefix = "t");
  // In the database at `url` (e.g. citus_url()).
  TempSchema(const std::string& prefix, std::string url);
  ~TempSchema();
  TempSchema(const TempSchema&) = delete;
  TempSchema& operator=(const TempSchema&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string url_;  // empty: database_url()
};

// Runs one query and returns its single value as text ("" for NULL).
std::string query_value(const std::string& sql);

}  // namespace mdesync::testing
