#include "support/test_database.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <unistd.h>

namespace mdesync::testing {

std::string database_url() {
  const char* url = std::getenv("MDESYNC_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    ADD_FAILURE() << "MDESYNC_TEST_DATABASE_URL is not set: run the tests through scripts/test, "
                     "which starts a throwaway PostgreSQL";
    throw std::runtime_error("MDESYNC_TEST_DATABASE_URL is not set");
  }
  return url;
}

TempSchema::TempSchema(const std::string& prefix) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(rd() % 100000);
}

TempSchema::~TempSchema() {
  try {
    pqxx::connection c(database_url());
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
