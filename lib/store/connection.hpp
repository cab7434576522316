#pragma once
// A libpqxx connection that also hands out its libpq handle, and that never
// waits on the network without a deadline.
//
// Why the handle: COPY is the hot path, and libpqxx 6.4's stream_to costs ~3 s
// of client CPU per million rows while libpq's PQputCopyData with large chunks
// keeps pace with the server. libpqxx 6.4 keeps its PGconn private, but lets a
// connection policy see the handle as it connects; that is the supported door we
// use. Staging, upsert and watermark then share one connection and one transaction.
//
// Deadlines: every connection carries the network settings of conninfo.hpp, and
// every operation runs under operation(): a deadline sized to the work that, when
// it passes, breaks the connection loose (a cancel request sent without waiting
// for it, which may go through the same dead path, then the socket shut down), so
// the blocked libpq call fails at once with pqxx::broken_connection. The same
// happens when the StallWatch the connection is attached to gives its work up.
#include <pqxx/connection_base>
#include <pqxx/connection>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/deadline.hpp"
#include "core/stall_watch.hpp"

extern "C" {
typedef struct pg_conn PGconn;
}

namespace mdesync::store {

// How long operations may take. Short ones touch a few rows (the run journal,
// locks, the sync state); long ones move a snapshot and are bounded by rows.
inline constexpr std::chrono::seconds short_operation{30};
// Migrations rebuild indexes of tables that may hold hundreds of millions of rows.
inline constexpr std::chrono::hours migration_operation{2};
// A bulk statement over `rows` rows: 5 minutes, plus a minute per 200,000 rows
// (a first load of 10 million rows builds its indexes in a few minutes here).
std::chrono::milliseconds bulk_operation(std::uint64_t rows);

class Connection : public pqxx::connection_base {
 public:
  // Throws pqxx::broken_connection when the server cannot be reached within
  // connect_timeout, std::invalid_argument when conninfo does not parse.
  explicit Connection(const std::string& conninfo);
  ~Connection() noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The live libpq handle; only for COPY between libpqxx calls, never across them.
  PGconn* raw() const;

  // One operation under a deadline. While it lives, `step` is what the attached
  // StallWatch reports; when it ends in time, the watch learns of the progress.
  class Operation {
   public:
    Operation(Connection& conn, std::string_view step, std::chrono::milliseconds budget);
    ~Operation();
    Operation(const Operation&) = delete;
    Operation& operator=(const Operation&) = delete;
    // More of the work got done (a COPY chunk went out): the deadline starts again.
    void advanced();

   private:
    Connection& conn_;
    std::string step_;
    std::string outer_step_;  // the watch's step before, given back at the end
    Deadline deadline_;
  };
  [[nodiscard]] Operation operation(std::string_view step, std::chrono::milliseconds budget) {
    return Operation(*this, step, budget);
  }

  // From now on, a stall of `watch` breaks this connection loose; its operations
  // report progress to it. nullptr detaches.
  void attach(StallWatch* watch);
  StallWatch* watch() const { return watch_; }

  // Sends a cancel request (without waiting for it) and shuts the socket down.
  // Thread-safe; the connection is unusable afterwards. `why` is kept for gave_up().
  void break_loose(const std::string& why) noexcept;
  // Why the connection was broken loose, if it was.
  std::optional<std::string> gave_up() const;

 private:
  class Policy : public pqxx::connect_direct {
   public:
    Policy(const std::string& opts, std::recursive_mutex& m) : pqxx::connect_direct(opts), mutex(m) {}
    handle do_startconnect(handle orig) override;
    handle do_completeconnect(handle orig) override;
    handle do_dropconnect(handle orig) noexcept override;
    handle do_disconnect(handle orig) noexcept override;
    std::atomic<handle> current{nullptr};
    // Held while the handle changes, and by break_loose(); recursive: pqxx's
    // do_disconnect calls do_dropconnect.
    std::recursive_mutex& mutex;
  };
  std::recursive_mutex handle_mutex_;
  // Initialised after the base, exactly as pqxx::basic_connection_base does:
  // the base only stores a reference until init() runs.
  Policy policy_;
  StallWatch* watch_ = nullptr;
  std::unique_ptr<StallWatch::Interrupter> interrupter_;
  mutable std::mutex why_mutex_;
  std::optional<std::string> gave_up_;
};

}  // namespace mdesync::store
