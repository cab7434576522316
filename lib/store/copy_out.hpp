#pragma once
// COPY ... TO STDOUT through libpq, one text line at a time: reading a million
// digests this way holds one line in memory, not a whole result set.
#include <functional>
#include <string>
#include <string_view>

#include "store/connection.hpp"

namespace mdesync::store {

// Runs `copy_sql` (a COPY ... TO STDOUT statement) inside the transaction
// libpqxx has open and calls on_line with each line, without its newline.
// Throws pqxx::sql_error or pqxx::broken_connection.
void copy_out_lines(Connection& conn, const std::string& copy_sql,
                    const std::function<void(std::string_view)>& on_line);

}  // namespace mdesync::store
