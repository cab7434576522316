#pragma once
// A libpqxx connection that also hands out its libpq handle.
//
// Why: COPY is the hot path, and libpqxx 6.4's stream_to costs ~3 s of client CPU
// per million rows while libpq's PQputCopyData with large chunks keeps pace with
// the server. libpqxx 6.4 keeps its PGconn private, but lets a connection policy
// see the handle as it connects; that is the supported door we use. Staging, upsert
// and watermark then share one connection and one transaction.
#include <pqxx/connection_base>
#include <pqxx/connection>
#include <string>

extern "C" {
typedef struct pg_conn PGconn;
}

namespace mdesync::store {

class Connection : public pqxx::connection_base {
 public:
  explicit Connection(const std::string& conninfo);
  ~Connection() noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The live libpq handle; only for COPY between libpqxx calls, never across them.
  PGconn* raw() const;

 private:
  class Policy : public pqxx::connect_direct {
   public:
    explicit Policy(const std::string& opts) : pqxx::connect_direct(opts) {}
    handle do_startconnect(handle orig) override;
    handle do_completeconnect(handle orig) override;
    handle do_dropconnect(handle orig) noexcept override;
    handle do_disconnect(handle orig) noexcept override;
    handle current = nullptr;
  };
  // Initialised after the base, exactly as pqxx::basic_connection_base does:
  // the base only stores a reference until init() runs.
  Policy policy_;
};

}  // namespace mdesync::store
