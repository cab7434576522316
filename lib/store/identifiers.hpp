#pragma once
#include <string>
#include <string_view>

namespace mdesync::store {

// "name" with embedded quotes doubled: safe for any schema or table name.
std::string quote_identifier(std::string_view name);

// schema.table, both quoted.
std::string qualified(std::string_view schema, std::string_view table);

// The staging table of a tenant's snapshot, unquoted:
// stage_<dataset>_<the tenant's first 20 characters>_<24 hex digits of SHA-256
// over the tenant>. PostgreSQL cuts identifiers at 63 bytes and tenant names may
// be 63 characters long, so the name alone could make two tenants that share a
// prefix stage into one table; the hash keeps them apart, the prefix tells a
// reader whose table it is.
std::string stage_table(std::string_view dataset, std::string_view tenant);

}  // namespace mdesync::store
