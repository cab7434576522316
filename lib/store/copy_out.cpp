#include "store/copy_out.hpp"

#include <libpq-fe.h>
#include <pqxx/except>

#include <memory>

namespace mdesync::store {

void copy_out_lines(Connection& conn, const std::string& copy_sql,
                    const std::function<void(std::string_view)>& on_line) {
  using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;
  PGconn* c = conn.raw();
  if (c == nullptr) throw pqxx::broken_connection("COPY: no database connection");
  auto op = conn.operation("reading rows", short_operation);
  std::size_t lines = 0;
  ResultPtr start(PQexec(c, copy_sql.c_str()), &PQclear);
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_OUT)
    throw pqxx::sql_error(std::string("COPY could not start: ") +
                              (start ? PQresultErrorMessage(start.get()) : PQerrorMessage(c)),
                          copy_sql);
  for (;;) {
    char* buf = nullptr;
    const int n = PQgetCopyData(c, &buf, 0);
    if (n < 0) break;  // -1: done; -2: error, reported by the result below
    std::string_view line(buf, static_cast<std::size_t>(n));
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    try {
      on_line(line);
    } catch (...) {
      PQfreemem(buf);
      // Drain so the connection is usable (or cleanly broken) for libpqxx.
      while (PQgetCopyData(c, &buf, 0) >= 0) PQfreemem(buf);
      while (ResultPtr r{PQgetResult(c), &PQclear}) {
      }
      throw;
    }
    PQfreemem(buf);
    if (++lines % 4096 == 0) op.advanced();
  }
  std::string error;
  while (ResultPtr r{PQgetResult(c), &PQclear}) {
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK && error.empty()) error = PQresultErrorMessage(r.get());
  }
  if (!error.empty()) {
    if (PQstatus(c) == CONNECTION_BAD) throw pqxx::broken_connection("COPY failed: " + error);
    throw pqxx::sql_error("COPY failed: " + error, copy_sql);
  }
}

}  // namespace mdesync::store
