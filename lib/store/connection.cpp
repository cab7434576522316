#include "store/connection.hpp"

#include <libpq-fe.h>

namespace mdesync::store {

Connection::Connection(const std::string& conninfo) : pqxx::connection_base(policy_), policy_(conninfo) { init(); }

Connection::~Connection() noexcept { close(); }

PGconn* Connection::raw() const { return reinterpret_cast<PGconn*>(policy_.current); }

Connection::Policy::handle Connection::Policy::do_startconnect(handle orig) {
  current = pqxx::connect_direct::do_startconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_completeconnect(handle orig) {
  current = pqxx::connect_direct::do_completeconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_dropconnect(handle orig) noexcept {
  current = pqxx::connect_direct::do_dropconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_disconnect(handle orig) noexcept {
  current = pqxx::connect_direct::do_disconnect(orig);
  return current;
}

}  // namespace mdesync::store
