#include "http/transport.hpp"

#include <strings.h>

namespace mdesync::http {

Transport::~Transport() = default;

std::optional<std::string> Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  return std::nullopt;
}

}  // namespace mdesync::http
