#include "support/test_database.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace mdesync::testing {

namespace {

// A URL from `variable`; a missing one fails the current test (and throws).
std::string required_url(const char* variable, const char* what) {
  const char* url = std::getenv(variable);
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << variable << " is not set: run the tests through scripts/test, which starts " << what;
    throw std::runtime_error(std::string(variable) + " is not set");
  }
  return url;
}

}  // namespace

bool on_citus_backend() {
  const char* backend = std::getenv("MDESYNC_TEST_BACKEND");
  return backend != nullptr && std::string(backend) == "citus";
}

std::string database_url() {
  if (on_citus_backend()) return citus_url();
  return required_url("MDESYNC_TEST_DATABASE_URL", "a throwaway PostgreSQL");
}

std::string citus_url() { return required_url("MDESYNC_TEST_CITUS_URL", "a throwaway Citus cluster"); }

TempSchema::TempSchema(const std::string& prefix, std::string url) : TempSchema(prefix) { url_ = std::move(url); }

TempSchema::TempSchema(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
}

TempSchema::~TempSchema() {
  try {
    pqxx::connection c(url_.empty() ? database_url() : url_);
    pqxx::nontransaction tx(c);
    tx.exec("DROP SCHEMA IF EXISTS " + tx.quote_name(name_) + " CASCADE");
  } catch (const std::exception&) {
    // Leaving a schema behind in a throwaway cluster is harmless; throwing from a destructor is not.
  }
}

std::string query_value(const std::string& sql) {
  pqxx::connection c(database_url());
  pqxx::nontransaction tx(c);
  auto r = tx.exec1(sql);
  return r[0].is_null() ? std::string() : r[0].as<std::string>();
}

}  // namespace mdesync::testing
