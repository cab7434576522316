#pragma once
// COPY ... FROM STDIN through libpq, inside the transaction libpqxx has open.
#include <cstdint>
#include <string>
#include <string_view>

#include "store/connection.hpp"

namespace mdesync::store {

class CopyIn {
 public:
  // Starts `copy_sql` (a COPY ... FROM STDIN statement). Throws pqxx::sql_error.
  CopyIn(Connection& conn, const std::string& copy_sql);
  // Aborts the COPY if finish() was not reached, so the transaction fails cleanly.
  ~CopyIn();
  CopyIn(const CopyIn&) = delete;
  CopyIn& operator=(const CopyIn&) = delete;

  // Sends COPY text (whole lines). Buffers up to chunk_bytes before each send.
  void write(std::string_view data);
  // Ends the COPY and returns the number of rows the server stored.
  std::uint64_t finish();

  static constexpr std::size_t chunk_bytes = 256 * 1024;

 private:
  void flush();
  [[noreturn]] void fail(const char* what);

  Connection& conn_;
  std::string sql_;
  std::string buffer_;
  bool open_ = true;
};

}  // namespace mdesync::store
