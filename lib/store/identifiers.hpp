#pragma once
#include <string>
#include <string_view>

namespace mdesync::store {

// "name" with embedded quotes doubled: safe for any schema or table name.
std::string quote_identifier(std::string_view name);

// schema.table, both quoted.
std::string qualified(std::string_view schema, std::string_view table);

}  // namespace mdesync::store
