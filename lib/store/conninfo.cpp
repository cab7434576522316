#include "store/conninfo.hpp"

#include <libpq-fe.h>

#include <memory>
#include <set>
#include <stdexcept>
#include <utility>

namespace mdesync::store {

std::string with_network_deadlines(const std::string& conninfo) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &error),
                                                                       &PQconninfoFree);
  if (!options) {
    std::string message = error != nullptr ? error : "cannot parse the connection string";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::invalid_argument(message);
  }
  std::set<std::string> given;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o)
    if (o->val != nullptr) given.insert(o->keyword);
  const std::pair<const char*, std::string> defaults[] = {
      {"connect_timeout", std::to_string(connect_timeout_seconds)},
      {"keepalives", "1"},
      {"keepalives_idle", std::to_string(keepalives_idle_seconds)},
      {"keepalives_interval", std::to_string(keepalives_interval_seconds)},
      {"keepalives_count", std::to_string(keepalives_count)},
      {"tcp_user_timeout", std::to_string(tcp_user_timeout_ms)},
  };
  const bool uri = conninfo.starts_with("postgresql://") || conninfo.starts_with("postgres://");
  std::string out = conninfo;
  bool has_query = uri && conninfo.find('?') != std::string::npos;
  for (const auto& [key, value] : defaults) {
    if (given.count(key) != 0) continue;
    if (uri) {
      out += has_query ? '&' : '?';
      has_query = true;
    } else if (!out.empty()) {
      out += ' ';
    }
    out += std::string(key) + "=" + value;
  }
  return out;
}

}  // namespace mdesync::store
