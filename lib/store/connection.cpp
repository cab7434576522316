#include "store/connection.hpp"

#include <libpq-fe.h>
#include <sys/socket.h>

#include <thread>

#include "core/duration.hpp"
#include "store/conninfo.hpp"

namespace mdesync::store {

std::chrono::milliseconds bulk_operation(std::uint64_t rows) {
  return std::chrono::minutes(5) + std::chrono::minutes(rows / 200'000);
}

Connection::Connection(const std::string& conninfo)
    : pqxx::connection_base(policy_), policy_(with_network_deadlines(conninfo), handle_mutex_) {
  init();
}

Connection::~Connection() noexcept {
  interrupter_.reset();
  close();
}

PGconn* Connection::raw() const { return reinterpret_cast<PGconn*>(policy_.current.load()); }

void Connection::attach(StallWatch* watch) {
  interrupter_.reset();
  watch_ = watch;
  if (watch_ != nullptr)
    interrupter_ = std::make_unique<StallWatch::Interrupter>(
        watch_, [this, watch] { break_loose("the pull made " + watch->stall_message()); });
}

void Connection::break_loose(const std::string& why) noexcept {
  try {
    {
      std::lock_guard lock(why_mutex_);
      if (!gave_up_) gave_up_ = why;
    }
    std::lock_guard lock(handle_mutex_);
    PGconn* c = raw();
    if (c == nullptr) return;
    // The cancel request opens a connection of its own, possibly into the same
    // black hole: it is sent from a thread nobody waits for.
    if (PGcancel* cancel = PQgetCancel(c)) {
      std::thread([cancel] {
        char error[256];
        PQcancel(cancel, error, sizeof error);
        PQfreeCancel(cancel);
      }).detach();
    }
    // Wakes the blocked send or receive at once, whatever the peer does.
    if (const int fd = PQsocket(c); fd >= 0) ::shutdown(fd, SHUT_RDWR);
  } catch (...) {
  }
}

std::optional<std::string> Connection::gave_up() const {
  std::lock_guard lock(why_mutex_);
  return gave_up_;
}

Connection::Operation::Operation(Connection& conn, std::string_view step, std::chrono::milliseconds budget)
    : conn_(conn), step_(step), deadline_(budget, [this, budget] {
        conn_.break_loose("PostgreSQL did not answer within " + format_duration(budget) + " while " + step_);
      }) {
  if (conn_.watch_ != nullptr) {
    outer_step_ = conn_.watch_->current_step();
    conn_.watch_->step(step_);
  }
}

Connection::Operation::~Operation() {
  // A completed operation is progress; the work goes back to what it was doing.
  if (conn_.watch_ != nullptr && !deadline_.expired()) conn_.watch_->step(outer_step_);
}

void Connection::Operation::advanced() {
  deadline_.extend();
  if (conn_.watch_ != nullptr) conn_.watch_->advanced();
}

Connection::Policy::handle Connection::Policy::do_startconnect(handle orig) {
  std::lock_guard lock(mutex);
  current = pqxx::connect_direct::do_startconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_completeconnect(handle orig) {
  std::lock_guard lock(mutex);
  current = pqxx::connect_direct::do_completeconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_dropconnect(handle orig) noexcept {
  std::lock_guard lock(mutex);
  current = pqxx::connect_direct::do_dropconnect(orig);
  return current;
}

Connection::Policy::handle Connection::Policy::do_disconnect(handle orig) noexcept {
  std::lock_guard lock(mutex);
  current = pqxx::connect_direct::do_disconnect(orig);
  return current;
}

}  // namespace mdesync::store
