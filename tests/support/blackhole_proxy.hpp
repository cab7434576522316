#pragma once
// A TCP proxy on 127.0.0.1 that can turn into a black hole: what a stateful
// firewall that starts dropping packets, or a peer whose host froze, looks like
// from both ends. Nothing is ever closed or reset by blackhole(): bytes stop
// moving and the peers learn nothing, so only their own deadlines (libpq's
// connect_timeout, statement or stall timeouts, a watchdog) can save them.
//
// Invariants:
//  - blackhole() never closes, resets or half-closes a socket; data that arrives
//    afterwards is left unread (the sender's socket buffers fill up and its
//    writes block, as behind a firewall in DROP state). Once it returns, not one
//    more byte moves on any connection;
//  - a connection that was forwarding when blackhole() came stays dead for good:
//    the outage lost its state, as a firewall or NAT failover does. Its client
//    side stays open and silent until close_all() or the destructor; its upstream
//    side is closed by resume(), which is what the server would learn from its
//    TCP keepalives sooner or later (a test cannot wait hours for that, and a
//    server session left behind would hold its locks that long);
//  - a connection accepted while black-holed is held: its TCP handshake completes
//    in the kernel (as with any proxy in between) but it is never connected
//    upstream nor answered. resume() connects it and forwards what it sent, as a
//    SYN retransmitted after an outage gets through; one whose client gave up
//    meanwhile is closed instead;
//  - the destructor closes everything and joins every thread promptly, whatever
//    state the peers are in.
//
// Unlike a real black hole, the proxy's kernel still acknowledges what it
// receives, and so answers TCP keepalive probes: keepalives and TCP_USER_TIMEOUT
// cannot detect this outage, only an application-level deadline can.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mdesync::testing {

class BlackholeProxy {
 public:
  // Listens on 127.0.0.1 on a port the kernel picks; each accepted connection is
  // forwarded to upstream_host:upstream_port (resolved per connection).
  BlackholeProxy(std::string upstream_host, int upstream_port);
  ~BlackholeProxy();
  BlackholeProxy(const BlackholeProxy&) = delete;
  BlackholeProxy& operator=(const BlackholeProxy&) = delete;

  int port() const { return port_; }

  // Stops forwarding in both directions on every open connection, and for every
  // connection accepted from now on, without closing anything.
  void blackhole();
  // Connections accepted from now on forward, and so do the ones held while
  // black-holed; the ones that were forwarding stay dead (see above).
  void resume();
  bool blackholed() const;
  // Closes every connection accepted so far, whatever its state (plain close(),
  // so peers see EOF, or a reset when data was left unread).
  void close_all();

  // Connections accepted so far, and how many of them are forwarding now.
  std::size_t accepted() const;
  std::size_t forwarding() const;

 private:
  struct Connection;

  void accept_loop();
  void pump(Connection& c);
  bool connect_when_forwarding(Connection& c);
  void forward(Connection& c);
  bool stopping(const Connection& c) const;
  void reap_finished();

  std::string upstream_host_;
  int upstream_port_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;  // an eventfd made readable once, never drained: wakes every poll for good
  int port_ = 0;

  mutable std::mutex mutex_;
  bool blackholed_ = false;
  std::size_t accepted_ = 0;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::thread acceptor_;
};

}  // namespace mdesync::testing
