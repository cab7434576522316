#include "store/identifiers.hpp"

#include <cstdio>

#include "store/row_digest.hpp"

namespace mdesync::store {

std::string quote_identifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string qualified(std::string_view schema, std::string_view table) {
  return quote_identifier(schema) + "." + quote_identifier(table);
}

std::string stage_table(std::string_view dataset, std::string_view tenant) {
  constexpr std::size_t prefix_chars = 20;
  const RowDigest d = digest_row(tenant);
  char hash[25];
  std::snprintf(hash, sizeof hash, "%016llx%08llx", static_cast<unsigned long long>(d.high),
                static_cast<unsigned long long>(d.low >> 32));
  return "stage_" + std::string(dataset) + "_" + std::string(tenant.substr(0, prefix_chars)) + "_" + hash;
}

}  // namespace mdesync::store
