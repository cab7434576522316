#include "support/connect_proxy.hpp"

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
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "core/base64.hpp"

namespace mdesync::testing {
namespace {

constexpr int head_timeout_ms = 10'000;
constexpr int upstream_connect_timeout_ms = 5'000;
constexpr std::size_t max_head_bytes = 16 * 1024;
constexpr std::size_t max_seen_bytes = 64 << 20;  // far beyond what a test sends upstream

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Sockets are non-blocking; false when the peer is gone or `stop` became readable.
bool send_all(int fd, std::string_view bytes, int stop) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
      pollfd p[2] = {{stop, POLLIN, 0}, {fd, POLLOUT, 0}};
      if (::poll(p, 2, -1) > 0 && p[0].revents) return false;
      continue;
    }
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// One recv: > 0 bytes, 0 for "nothing now", -1 for closed or failed.
long receive(int fd, char* buf, std::size_t size) {
  const auto n = ::recv(fd, buf, size, 0);
  if (n > 0) return n;
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  return -1;
}

std::string lower(std::string s) {
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// A header's value in a request head, the name compared case-insensitively.
std::string header_value(const std::string& head, const std::string& name) {
  const std::string wanted = lower(name) + ":";
  std::size_t at = head.find("\r\n");
  while (at != std::string::npos && at + 2 < head.size()) {
    const auto end = head.find("\r\n", at + 2);
    const std::string line = head.substr(at + 2, end - at - 2);
    if (lower(line.substr(0, wanted.size())) == wanted) {
      std::string value = line.substr(wanted.size());
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
    at = end;
  }
  return {};
}

bool is_loopback_address(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// A connected socket to address:port, or -1 within the timeout.
int connect_to(const std::string& address, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* found = nullptr;
  if (::getaddrinfo(address.c_str(), port.c_str(), &hints, &found) != 0) return -1;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) != 0 && errno != EINPROGRESS) close_fd(fd);
  ::freeaddrinfo(found);
  if (fd < 0) return -1;
  pollfd p{fd, POLLOUT, 0};
  int error = 0;
  socklen_t len = sizeof error;
  if (::poll(&p, 1, upstream_connect_timeout_ms) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 ||
      error != 0)
    close_fd(fd);
  return fd;
}

}  // namespace

struct ConnectProxy::Impl {
  ConnectProxyOptions options;
  int listen_fd = -1;
  int stop_fd = -1;  // made readable once by the destructor: every poll returns from then on

  mutable std::mutex mutex;
  std::vector<std::string> log;
  std::string seen;
  std::size_t tunnels = 0;
  std::vector<std::thread> threads;
  std::thread acceptor;

  void note(const std::string& line) {
    std::lock_guard lock(mutex);
    log.push_back(line);
  }
  void saw(std::string_view bytes) {
    std::lock_guard lock(mutex);
    if (seen.size() < max_seen_bytes) seen.append(bytes.substr(0, max_seen_bytes - seen.size()));
  }
  bool stopping() const {
    pollfd p{stop_fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }

  void accept_loop();
  void serve(int client);
  void relay(int client, int upstream, std::string pending);
  void answer(int client, int status, const std::string& reason, const std::string& extra_headers = {}) {
    send_all(client, "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra_headers +
                         "Content-Length: 0\r\nConnection: close\r\n\r\n",
             stop_fd);
  }
};

void ConnectProxy::Impl::accept_loop() {
  for (;;) {
    pollfd p[2] = {{stop_fd, POLLIN, 0}, {listen_fd, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
    if (p[0].revents) return;
    if (!p[1].revents) continue;
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mutex);
    threads.emplace_back([this, fd] { serve(fd); });
  }
}

void ConnectProxy::Impl::serve(int client) {
  std::string head;
  char buf[4096];
  std::size_t end = std::string::npos;
  while (end == std::string::npos) {
    pollfd p[2] = {{stop_fd, POLLIN, 0}, {client, POLLIN, 0}};
    if (::poll(p, 2, head_timeout_ms) <= 0 || p[0].revents || head.size() > max_head_bytes) {
      ::close(client);
      return;
    }
    const auto n = receive(client, buf, sizeof buf);
    if (n < 0) {
      ::close(client);
      return;
    }
    saw(std::string_view(buf, static_cast<std::size_t>(n)));
    head.append(buf, static_cast<std::size_t>(n));
    end = head.find("\r\n\r\n");
  }
  std::string pending = head.substr(end + 4);
  head.resize(end + 2);

  const auto line_end = head.find("\r\n");
  const std::string request_line = head.substr(0, line_end);
  const auto sp1 = request_line.find(' ');
  const auto sp2 = request_line.find(' ', sp1 + 1);
  const std::string method = request_line.substr(0, sp1);
  const std::string target = sp1 == std::string::npos ? "" : request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  int client_fd = client;
  const auto finish = [&](int status, const std::string& reason, const std::string& user,
                          const std::string& extra = {}) {
    note(method + " " + target + " " + std::to_string(status) + " user=" + user);
    answer(client_fd, status, reason, extra);
    ::close(client_fd);
  };
  if (method != "CONNECT") return finish(405, "Method Not Allowed", "-");

  std::string user = "-";
  if (!options.user.empty()) {
    const std::string expected = "Basic " + base64_encode(options.user + ":" + options.password);
    const std::string given = header_value(head, "Proxy-Authorization");
    if (given != expected)
      return finish(407, "Proxy Authentication Required", given.empty() ? "-" : "?",
                    "Proxy-Authenticate: Basic realm=\"mdesync-test-proxy\"\r\n");
    user = options.user;
  }
  if (options.refuse_status != 0) return finish(options.refuse_status, "Refused By Policy", user);

  // host:port, [v6]:port
  std::string host, port;
  if (!target.empty() && target.front() == '[') {
    const auto close = target.find(']');
    host = target.substr(1, close - 1);
    port = close + 2 <= target.size() ? target.substr(close + 2) : "";
  } else {
    const auto colon = target.rfind(':');
    host = target.substr(0, colon);
    port = colon == std::string::npos ? "" : target.substr(colon + 1);
  }
  std::string address = host;
  if (const auto mapped = options.hosts.find(lower(host)); mapped != options.hosts.end()) address = mapped->second;
  if (lower(host) == "localhost") address = "127.0.0.1";
  if (port.empty() || !is_loopback_address(address)) return finish(403, "Not A Test Host", user);

  int upstream = connect_to(address, port);
  if (upstream < 0) return finish(502, "Bad Gateway", user);
  note("CONNECT " + target + " 200 user=" + user);
  {
    std::lock_guard lock(mutex);
    ++tunnels;
  }
  if (send_all(client, "HTTP/1.1 200 Connection established\r\n\r\n", stop_fd)) relay(client, upstream, std::move(pending));
  close_fd(upstream);
  ::close(client);
}

void ConnectProxy::Impl::relay(int client, int upstream, std::string pending) {
  if (!pending.empty() && !send_all(upstream, pending, stop_fd)) return;
  char buf[64 * 1024];
  for (;;) {
    pollfd p[3] = {{stop_fd, POLLIN, 0}, {client, POLLIN, 0}, {upstream, POLLIN, 0}};
    if (::poll(p, 3, -1) < 0 && errno != EINTR) return;
    if (p[0].revents) return;
    if (p[1].revents) {
      const auto n = receive(client, buf, sizeof buf);
      if (n < 0) return;
      saw(std::string_view(buf, static_cast<std::size_t>(n)));
      if (!send_all(upstream, std::string_view(buf, static_cast<std::size_t>(n)), stop_fd)) return;
    }
    if (p[2].revents) {
      const auto n = receive(upstream, buf, sizeof buf);
      if (n < 0) return;
      if (!send_all(client, std::string_view(buf, static_cast<std::size_t>(n)), stop_fd)) return;
    }
  }
}

ConnectProxy::ConnectProxy(ConnectProxyOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  std::map<std::string, std::string> hosts;
  for (const auto& [name, address] : impl_->options.hosts) {
    if (!is_loopback_address(address)) throw std::invalid_argument("connect proxy: " + address + " is not loopback");
    hosts[lower(name)] = address;
  }
  impl_->options.hosts = std::move(hosts);
  impl_->stop_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  impl_->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (impl_->stop_fd < 0 || impl_->listen_fd < 0 ||
      ::bind(impl_->listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(impl_->listen_fd, SOMAXCONN) != 0 ||
      ::getsockname(impl_->listen_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error(std::string("connect proxy: cannot listen on 127.0.0.1: ") + std::strerror(errno));
  port_ = ntohs(a.sin_port);
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->accept_loop(); });
}

ConnectProxy::~ConnectProxy() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(impl_->stop_fd, &one, sizeof one);
  impl_->acceptor.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
  close_fd(impl_->listen_fd);
  close_fd(impl_->stop_fd);
}

std::string ConnectProxy::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> ConnectProxy::log() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->log;
}

std::string ConnectProxy::seen() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->seen;
}

std::size_t ConnectProxy::tunnels_opened() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->tunnels;
}

}  // namespace mdesync::testing
