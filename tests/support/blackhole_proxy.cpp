#include "support/blackhole_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace mdesync::testing {
namespace {

// How long connecting upstream may take before the client is closed instead.
constexpr int upstream_connect_timeout_ms = 10'000;
// Bytes buffered per direction; a full buffer stops reading that side (backpressure).
constexpr std::size_t buffer_size = 64 * 1024;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("blackhole proxy: " + what + ": " + std::strerror(errno));
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

bool readable(const pollfd& p) { return (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0; }

void signal_eventfd(int fd) {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(fd, &one, sizeof one);
}

void drain_eventfd(int fd) {
  std::uint64_t value = 0;
  [[maybe_unused]] const auto n = ::read(fd, &value, sizeof value);
}

// Returned by connect_upstream when `wake` interrupted it.
constexpr int interrupted = -2;

// A non-blocking connect to host:port. Returns the connected socket, -1 when no
// address answers within the timeout, or `interrupted` when `stop` or `wake`
// became readable first.
int connect_upstream(const std::string& host, int port, int stop, int wake) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return -1;
  int result = -1;
  for (addrinfo* a = found; a != nullptr && result == -1; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      close_fd(fd);
      continue;
    }
    pollfd p[3] = {{stop, POLLIN, 0}, {wake, POLLIN, 0}, {fd, POLLOUT, 0}};
    const int n = ::poll(p, 3, upstream_connect_timeout_ms);
    if (n > 0 && (p[0].revents || p[1].revents)) {
      close_fd(fd);
      result = interrupted;
      break;
    }
    int error = 0;
    socklen_t len = sizeof error;
    if (n <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) {
      close_fd(fd);
      continue;
    }
    result = fd;
  }
  ::freeaddrinfo(found);
  return result;
}

// The client closed or reset its side (checked without reading what it sent).
bool client_gone(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

// Bytes read from one side and not yet written to the other.
struct Buffer {
  std::vector<char> data = std::vector<char>(buffer_size);
  std::size_t begin = 0, end = 0;
  std::size_t moved = 0;  // bytes in plus bytes out, ever
  bool empty() const { return begin == end; }
};

enum class Io { ok, closed, error };

// One read into `b` (only when it is empty, so a slow reader holds back the writer).
Io fill(int fd, Buffer& b) {
  const auto n = ::recv(fd, b.data.data(), b.data.size(), 0);
  if (n > 0) {
    b.begin = 0;
    b.end = static_cast<std::size_t>(n);
    b.moved += b.end;
    return Io::ok;
  }
  if (n == 0) return Io::closed;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Io::ok : Io::error;
}

Io flush(int fd, Buffer& b) {
  const auto n = ::send(fd, b.data.data() + b.begin, b.end - b.begin, MSG_NOSIGNAL);
  if (n >= 0) {
    b.begin += static_cast<std::size_t>(n);
    b.moved += static_cast<std::size_t>(n);
    if (b.empty()) b.begin = b.end = 0;
    return Io::ok;
  }
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Io::ok : Io::error;
}

}  // namespace

struct BlackholeProxy::Connection {
  enum class State {
    held,        // accepted while black-holed: not connected upstream, not read
    forwarding,  // connecting upstream, or moving bytes
    dead,        // was forwarding when blackhole() came: never moves a byte again
  };

  Connection(int client_fd, State s)
      : client(client_fd), wake(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)), state(s) {
    if (wake < 0) fail("eventfd");
  }
  ~Connection() {
    close_fd(client);
    close_fd(upstream);
    close_fd(wake);
  }

  // Under io_mutex, which the pump holds for every read and write: once
  // blackhole() has changed `state`, not one more byte moves.
  std::mutex io_mutex;
  int client;
  int upstream = -1;
  int wake;  // signalled when `state` or `closing` changes
  State state;
  std::atomic<bool> closing{false};
  std::atomic<bool> finished{false};
  std::thread thread;
};

BlackholeProxy::BlackholeProxy(std::string upstream_host, int upstream_port)
    : upstream_host_(std::move(upstream_host)), upstream_port_(upstream_port) {
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) fail("eventfd");
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) fail("socket");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fail("bind 127.0.0.1:0");
  if (::listen(listen_fd_, SOMAXCONN) != 0) fail("listen");
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) fail("getsockname");
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

BlackholeProxy::~BlackholeProxy() {
  signal_eventfd(stop_fd_);  // never drained: every poll below returns from now on
  acceptor_.join();
  std::vector<std::unique_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(connections_);
  }
  for (auto& c : all) c->thread.join();
  all.clear();
  close_fd(listen_fd_);
  close_fd(stop_fd_);
}

void BlackholeProxy::blackhole() {
  using State = Connection::State;
  std::lock_guard lock(mutex_);
  blackholed_ = true;
  for (auto& c : connections_) {
    std::lock_guard io(c->io_mutex);
    // Still connecting upstream: nothing was exchanged yet, so it is held like a
    // connection accepted now rather than lost.
    if (c->state == State::forwarding) c->state = c->upstream >= 0 ? State::dead : State::held;
    signal_eventfd(c->wake);
  }
}

void BlackholeProxy::resume() {
  using State = Connection::State;
  std::lock_guard lock(mutex_);
  blackholed_ = false;
  for (auto& c : connections_) {
    std::lock_guard io(c->io_mutex);
    if (c->state == State::held) c->state = State::forwarding;
    // The pump never touches a dead connection's sockets, so closing here is safe.
    if (c->state == State::dead) close_fd(c->upstream);
    signal_eventfd(c->wake);
  }
}

bool BlackholeProxy::blackholed() const {
  std::lock_guard lock(mutex_);
  return blackholed_;
}

void BlackholeProxy::close_all() {
  std::vector<std::unique_ptr<Connection>> all;
  {
    std::lock_guard lock(mutex_);
    all.swap(connections_);
  }
  for (auto& c : all) {
    c->closing = true;
    signal_eventfd(c->wake);
  }
  for (auto& c : all) c->thread.join();
}

std::size_t BlackholeProxy::accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::size_t BlackholeProxy::forwarding() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& c : connections_) {
    std::lock_guard io(c->io_mutex);
    if (c->state == Connection::State::forwarding && !c->finished) ++n;
  }
  return n;
}

void BlackholeProxy::reap_finished() {
  std::vector<std::unique_ptr<Connection>> done;
  {
    std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->finished) {
        done.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : done) c->thread.join();
}

void BlackholeProxy::accept_loop() {
  for (;;) {
    pollfd p[2] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[0].revents) return;
    if (!p[1].revents) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      // EMFILE and friends: back off instead of spinning on a readable listener.
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) ::poll(p, 1, 50);
      continue;
    }
    reap_finished();
    std::lock_guard lock(mutex_);
    ++accepted_;
    auto c = std::make_unique<Connection>(fd, blackholed_ ? Connection::State::held : Connection::State::forwarding);
    c->thread = std::thread([this, conn = c.get()] { pump(*conn); });
    connections_.push_back(std::move(c));
  }
}

bool BlackholeProxy::stopping(const Connection& c) const {
  pollfd p{stop_fd_, POLLIN, 0};
  return c.closing || (::poll(&p, 1, 0) > 0 && p.revents);
}

void BlackholeProxy::pump(Connection& c) {
  if (connect_when_forwarding(c)) forward(c);
  std::lock_guard io(c.io_mutex);
  close_fd(c.client);
  close_fd(c.upstream);
  c.finished = true;
}

// Waits while the connection is held, then connects it upstream. False when the
// client should be closed: stopping, the client gone, or no upstream.
bool BlackholeProxy::connect_when_forwarding(Connection& c) {
  using State = Connection::State;
  for (;;) {
    if (stopping(c)) return false;
    State state;
    {
      std::lock_guard io(c.io_mutex);
      state = c.state;
    }
    if (state == State::held) {
      pollfd p[2] = {{stop_fd_, POLLIN, 0}, {c.wake, POLLIN, 0}};
      ::poll(p, 2, -1);
      if (p[1].revents) drain_eventfd(c.wake);
      continue;
    }
    if (client_gone(c.client)) return false;
    const int fd = connect_upstream(upstream_host_, upstream_port_, stop_fd_, c.wake);
    if (fd == interrupted) {
      drain_eventfd(c.wake);
      continue;  // look at the state again
    }
    std::lock_guard io(c.io_mutex);
    if (c.state == State::forwarding) {
      c.upstream = fd;
      return fd >= 0;  // no upstream: close the client, as a proxy must
    }
    if (fd >= 0) ::close(fd);  // black-holed while connecting: held again
  }
}

void BlackholeProxy::forward(Connection& c) {
  using State = Connection::State;
  Buffer up, down;  // client -> upstream, upstream -> client
  bool client_eof = false, upstream_eof = false, up_shut = false, down_shut = false;
  while (!stopping(c)) {
    bool dead;
    pollfd p[4] = {{stop_fd_, POLLIN, 0}, {c.wake, POLLIN, 0}, {-1, 0, 0}, {-1, 0, 0}};
    {
      std::lock_guard io(c.io_mutex);
      dead = c.state != State::forwarding;
      if (!dead) {
        p[2] = {c.client, static_cast<short>((!client_eof && up.empty() ? POLLIN : 0) | (down.empty() ? 0 : POLLOUT)), 0};
        p[3] = {c.upstream, static_cast<short>((!upstream_eof && down.empty() ? POLLIN : 0) | (up.empty() ? 0 : POLLOUT)), 0};
      }
    }
    // A dead connection waits only for close_all() or the destructor: its client
    // socket stays open and unread.
    if (::poll(p, 4, -1) < 0 && errno != EINTR) return;
    if (p[1].revents) drain_eventfd(c.wake);

    std::lock_guard io(c.io_mutex);
    if (c.state != State::forwarding || c.closing) continue;
    const std::size_t before = up.moved + down.moved;
    Io r = Io::ok;
    if (!client_eof && up.empty() && readable(p[2]) && (r = fill(c.client, up)) == Io::closed) client_eof = true;
    if (r == Io::error) return;
    if (!upstream_eof && down.empty() && readable(p[3]) && (r = fill(c.upstream, down)) == Io::closed)
      upstream_eof = true;
    if (r == Io::error) return;
    if (!up.empty() && flush(c.upstream, up) == Io::error) return;
    if (!down.empty() && flush(c.client, down) == Io::error) return;
    // Half-closes travel through: EOF from one side, once its bytes are out,
    // becomes a shutdown(SHUT_WR) towards the other.
    if (client_eof && up.empty() && !up_shut) {
      ::shutdown(c.upstream, SHUT_WR);
      up_shut = true;
    }
    if (upstream_eof && down.empty() && !down_shut) {
      ::shutdown(c.client, SHUT_WR);
      down_shut = true;
    }
    if (up_shut && down_shut) return;
    // poll() reports a hang-up even on a side we are not reading (its buffer
    // towards the other side is full); wait a little instead of spinning.
    const bool moved = before != up.moved + down.moved;
    if (!moved && !p[1].revents && !(p[2].revents & POLLOUT) && !(p[3].revents & POLLOUT)) ::poll(nullptr, 0, 10);
  }
}

}  // namespace mdesync::testing
