#pragma once
// The metrics endpoint: GET /metrics (Prometheus text) and GET /healthz, over
// plain HTTP on metrics.listen (loopback by default). It runs its own
// io_context on its own thread, so a slow scrape never delays a sync and a
// busy sync never delays a scrape. Beast and Asio stay in metrics_server.cpp.
//
// Invariants kept by metrics_server.cpp:
//  - Every read and write has a deadline; a client that connects and sends
//    nothing, or sends slowly, is dropped after read_timeout.
//  - Request headers and bodies are bounded (413 for a larger body); nothing a
//    client sends can make the server buffer more than those limits.
//  - At most max_connections are served at once; further ones are closed at once.
//  - The callbacks run on the server thread: they must be thread-safe
//    (metrics::Registry::render() is). An exception from one is a 500, never a crash.
//  - The destructor returns only after the thread has stopped; no callback runs
//    after it.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace mdesync {

struct Health {
  bool ok;
  std::string reason;  // why not ok; sent as the 503 body
};

struct MetricsServerLimits {
  static constexpr std::chrono::milliseconds default_read_timeout{10000};
  static constexpr std::size_t default_max_body = 1024;
  static constexpr std::size_t default_max_connections = 64;

  std::chrono::milliseconds read_timeout = default_read_timeout;  // per request read, and per write
  std::size_t max_body = default_max_body;                        // GET needs none
  std::size_t max_connections = default_max_connections;
};

class MetricsServer {
 public:
  // Binds host:port (port 0 picks a free one) and starts serving. host is an IP
  // literal or a name resolved once here. Throws mdesync::Error(ErrorKind::config)
  // naming the address when it cannot be resolved or bound.
  MetricsServer(const std::string& host, std::uint16_t port, std::function<std::string()> render_metrics,
                std::function<Health()> health, MetricsServerLimits limits = {});
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound port (the real one when constructed with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdesync
