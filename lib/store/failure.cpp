#include "store/failure.hpp"

#include <pqxx/except>

namespace mdesync::store {

Recovery recovery_of(const std::exception& e) noexcept {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) return Recovery::reconnect;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    // COPY failures reported by libpq without a result carry no SQLSTATE: the
    // connection state decided broken_connection above, so this is the statement.
    return sql->sqlstate().empty() ? Recovery::retry : classify_sqlstate(sql->sqlstate());
  }
  if (const auto* error = dynamic_cast<const Error*>(&e)) return classify(*error);
  return Recovery::fatal;
}

std::string describe_failure(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr)
    return std::string("lost the connection to PostgreSQL: ") + e.what();
  return e.what();
}

}  // namespace mdesync::store
