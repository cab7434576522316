#pragma once
#include <span>
#include <string>
#include <string_view>

#include <pqxx/connection_base>

namespace mdesync::store {

struct Migration {
  int version;
  std::string_view name;  // file name without .sql
  std::string_view sql;
};

// sql/NNNN_*.sql, in order, compiled in.
std::span<const Migration> embedded_migrations();

struct MigrationResult {
  int applied = 0;      // migrations run now
  int version = 0;      // schema version afterwards
};

// Creates the schema if needed and applies every missing migration in one
// transaction under an advisory lock, so concurrent instances do it once.
MigrationResult migrate(pqxx::connection_base& conn, const std::string& schema);

// The highest applied version, 0 when the schema or its bookkeeping is absent.
int schema_version(pqxx::connection_base& conn, const std::string& schema);

// The version this binary expects.
int latest_version();

}  // namespace mdesync::store
