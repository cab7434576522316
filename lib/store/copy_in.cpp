#include "store/copy_in.hpp"

#include <libpq-fe.h>
#include <pqxx/except>

#include <cstdlib>
#include <memory>

namespace mdesync::store {
namespace {

using ResultPtr = std::unique_ptr<PGresult, decltype(&PQclear)>;

ResultPtr take(PGconn* c) { return ResultPtr(PQgetResult(c), &PQclear); }

}  // namespace

CopyIn::CopyIn(Connection& conn, const std::string& copy_sql) : conn_(conn), sql_(copy_sql) {
  PGconn* c = conn_.raw();
  if (c == nullptr) throw pqxx::broken_connection("COPY: no database connection");
  const auto op = conn_.operation("starting a COPY", short_operation);
  ResultPtr r(PQexec(c, copy_sql.c_str()), &PQclear);
  if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) {
    open_ = false;
    const std::string msg = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(c);
    throw pqxx::sql_error("COPY could not start: " + msg, copy_sql);
  }
  buffer_.reserve(chunk_bytes + 64 * 1024);
}

CopyIn::~CopyIn() {
  if (!open_) return;
  PGconn* c = conn_.raw();
  if (c == nullptr) return;
  const auto op = conn_.operation("aborting a COPY", short_operation);
  PQputCopyEnd(c, "aborted by client");
  while (ResultPtr r = take(c)) {
  }
}

void CopyIn::write(std::string_view data) {
  buffer_.append(data);
  if (buffer_.size() >= chunk_bytes) flush();
}

void CopyIn::flush() {
  if (buffer_.empty()) return;
  // The server takes a chunk in milliseconds; blocked for this long, it is gone.
  const auto op = conn_.operation("sending rows", std::chrono::minutes(2));
  if (PQputCopyData(conn_.raw(), buffer_.data(), static_cast<int>(buffer_.size())) != 1) fail("COPY data");
  buffer_.clear();
}

void CopyIn::fail(const char* what) {
  PGconn* c = conn_.raw();
  std::string msg = std::string(what) + " failed: " + PQerrorMessage(c);
  if (PQstatus(c) == CONNECTION_BAD) throw pqxx::broken_connection(msg);
  throw pqxx::sql_error(msg, sql_);
}

std::uint64_t CopyIn::finish() {
  flush();
  open_ = false;
  PGconn* c = conn_.raw();
  const auto op = conn_.operation("finishing a COPY", bulk_operation(0));
  if (PQputCopyEnd(c, nullptr) != 1) fail("COPY end");
  std::uint64_t rows = 0;
  std::string error;
  // Drain every result so libpqxx finds the connection idle afterwards.
  while (ResultPtr r = take(c)) {
    if (PQresultStatus(r.get()) == PGRES_COMMAND_OK) {
      rows = std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
    } else if (error.empty()) {
      error = PQresultErrorMessage(r.get());
    }
  }
  if (!error.empty()) {
    if (PQstatus(c) == CONNECTION_BAD) throw pqxx::broken_connection("COPY failed: " + error);
    throw pqxx::sql_error("COPY failed: " + error, sql_);
  }
  return rows;
}

}  // namespace mdesync::store
