// BlackholeProxy, the outage the systemd unit test relies on: bytes flow until
// blackhole(); then a connection stays open (no EOF, no reset) but nothing moves
// either way; after resume() new connections work, the ones held during the
// outage get through, and the ones black-holed stay dead. Against an echo
// server, a real PostgreSQL, and through the mdesync-blackhole program.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <regex>
#include <thread>

#include "support/blackhole_proxy.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;

// A blocking loopback echo server, one thread per connection; counts what it received.
class EchoServer {
 public:
  EchoServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("echo server: cannot listen");
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;  // shut down
        std::lock_guard lock(mutex_);
        ++accepted_;
        clients_.push_back(c);
        workers_.emplace_back([this, c] {
          char buf[4096];
          for (;;) {
            const auto n = ::recv(c, buf, sizeof buf, 0);
            if (n <= 0) break;
            received_ += static_cast<std::size_t>(n);
            if (::send(c, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
          }
          ::shutdown(c, SHUT_WR);
          ++closed_;
        });
      }
    });
  }
  ~EchoServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    acceptor_.join();
    {
      std::lock_guard lock(mutex_);
      for (int c : clients_) ::shutdown(c, SHUT_RDWR);  // wakes recv()
    }
    for (auto& w : workers_) w.join();
    for (int c : clients_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }
  std::size_t received() const { return received_; }
  std::size_t accepted() const { return accepted_; }
  // Connections whose client side closed (EOF or error), waiting up to `limit` for `want`.
  std::size_t closed(std::size_t want = 0, std::chrono::milliseconds limit = 0ms) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (closed_ < want && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    return closed_;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<int> clients_;
  std::vector<std::thread> workers_;
  std::atomic<std::size_t> received_{0};
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> closed_{0};
};

// A connected client socket; closed on destruction.
class Client {
 public:
  explicit Client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect failed");
  }
  ~Client() { ::close(fd_); }
  int fd() const { return fd_; }

  void send(const std::string& text) {
    ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
  }

  // Reads until `want` bytes arrived or `timeout` passed. "<eof>" / "<error: ...>"
  // mark a close or a reset; a timeout returns what arrived so far.
  std::string read(std::size_t want, std::chrono::milliseconds timeout = 5s) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (got.size() < want) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) break;
      char buf[4096];
      const auto n = ::recv(fd_, buf, std::min(sizeof buf, want - got.size()), 0);
      if (n == 0) return got + "<eof>";
      if (n < 0) return got + "<error: " + std::strerror(errno) + ">";
      got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
  }

  // The socket is still connected: no pending error, no EOF, no reset.
  void expect_open() {
    int error = 0;
    socklen_t len = sizeof error;
    ASSERT_EQ(::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len), 0);
    EXPECT_EQ(error, 0) << std::strerror(error);
    char c;
    const auto n = ::recv(fd_, &c, 1, MSG_DONTWAIT | MSG_PEEK);
    EXPECT_EQ(n, -1) << (n == 0 ? "EOF" : "data");
    EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK) << std::strerror(errno);
  }

 private:
  int fd_ = -1;
};

void wait_for_accepted(const BlackholeProxy& proxy, std::size_t n) {
  for (int i = 0; i < 500 && proxy.accepted() < n; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(proxy.accepted(), n);
}

TEST(BlackholeProxy, ForwardsBytesBothWaysAndPassesHalfCloses) {
  EchoServer echo;
  BlackholeProxy proxy("127.0.0.1", echo.port());
  Client client(proxy.port());
  client.send("hello through the proxy");
  EXPECT_EQ(client.read(23), "hello through the proxy");
  // More than one buffer's worth, so backpressure and partial writes are exercised.
  const std::string big(300'000, 'x');
  std::thread writer([&] { client.send(big); });
  EXPECT_EQ(client.read(big.size()), big);
  writer.join();
  // Our EOF reaches the server, whose EOF comes back.
  ::shutdown(client.fd(), SHUT_WR);
  EXPECT_EQ(client.read(1), "<eof>");
  EXPECT_EQ(proxy.accepted(), 1u);
}

TEST(BlackholeProxy, ABlackholedConnectionStaysOpenButNothingMovesEitherWay) {
  EchoServer echo;
  BlackholeProxy proxy("127.0.0.1", echo.port());
  Client client(proxy.port());
  client.send("before");
  ASSERT_EQ(client.read(6), "before");
  const auto received_before = echo.received();

  proxy.blackhole();
  EXPECT_TRUE(proxy.blackholed());
  EXPECT_EQ(proxy.forwarding(), 0u);
  client.send("after");
  // The read blocks: no answer, no EOF, no reset, for as long as we care to wait.
  EXPECT_EQ(client.read(5, 1s), "");
  client.expect_open();
  EXPECT_EQ(echo.received(), received_before) << "bytes reached the upstream after blackhole()";

  // Left unread, bytes pile up in socket buffers until the sender's writes block,
  // as behind a firewall that drops packets.
  const int flags = ::fcntl(client.fd(), F_GETFL);
  ::fcntl(client.fd(), F_SETFL, flags | O_NONBLOCK);
  const std::string chunk(64 * 1024, 'y');
  std::size_t sent = 0;
  bool blocked = false;
  for (int i = 0; i < 2000 && !blocked; ++i) {
    const auto n = ::send(client.fd(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n < 0) {
      blocked = errno == EAGAIN || errno == EWOULDBLOCK;
      ASSERT_TRUE(blocked) << std::strerror(errno);
    } else {
      sent += static_cast<std::size_t>(n);
    }
  }
  EXPECT_TRUE(blocked) << "the send buffer never filled after " << sent << " bytes";
  client.expect_open();

  // resume() does not bring this connection back: it lost its state for good.
  // Its server side is closed (what the server's keepalives would find out);
  // its client side stays open and silent.
  EXPECT_EQ(echo.closed(), 0u);
  proxy.resume();
  EXPECT_EQ(echo.closed(1, 5s), 1u) << "the upstream side of a dead connection stayed open after resume()";
  EXPECT_EQ(client.read(1, 500ms), "");
  client.expect_open();
}

TEST(BlackholeProxy, ConnectionsAcceptedDuringTheBlackholeAreHeldAndGetThroughAfterResume) {
  EchoServer echo;
  BlackholeProxy proxy("127.0.0.1", echo.port());
  proxy.blackhole();
  Client held(proxy.port());  // the handshake completes in the kernel; nothing else happens
  held.send("anyone?");
  EXPECT_EQ(held.read(7, 1s), "");
  held.expect_open();
  {
    Client gave_up(proxy.port());
    gave_up.send("bye");
  }
  EXPECT_EQ(echo.accepted(), 0u);
  EXPECT_EQ(echo.received(), 0u);

  proxy.resume();
  // Like a SYN retransmitted after the outage: the held connection goes through
  // with what it sent meanwhile; the one whose client gave up never reaches upstream.
  EXPECT_EQ(held.read(7), "anyone?");
  Client after(proxy.port());
  after.send("back");
  EXPECT_EQ(after.read(4), "back");
  EXPECT_EQ(proxy.accepted(), 3u);
  EXPECT_EQ(echo.accepted(), 2u);
  EXPECT_EQ(proxy.forwarding(), 2u);
}

TEST(BlackholeProxy, CloseAllClosesDeadConnectionsAndTheDestructorIsPrompt) {
  EchoServer echo;
  const auto start = std::chrono::steady_clock::now();
  {
    BlackholeProxy proxy("127.0.0.1", echo.port());
    Client a(proxy.port());
    a.send("a");
    ASSERT_EQ(a.read(1), "a");
    proxy.blackhole();
    Client b(proxy.port());
    wait_for_accepted(proxy, 2);  // close_all() closes what was accepted, not the listen backlog
    proxy.close_all();
    EXPECT_EQ(a.read(1), "<eof>");
    EXPECT_EQ(b.read(1), "<eof>");
    proxy.resume();
    Client c(proxy.port());
    c.send("c");
    ASSERT_EQ(c.read(1), "c");
    proxy.blackhole();
    Client d(proxy.port());
    // The proxy dies with a live-then-dead and a dead-at-accept connection open.
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(BlackholeProxy, AnUnreachableUpstreamClosesTheClient) {
  BlackholeProxy proxy("127.0.0.1", free_loopback_port());
  Client client(proxy.port());
  EXPECT_EQ(client.read(1), "<eof>");
}

// The PostgreSQL URL of scripts/test with its host and port replaced by the proxy's.
std::string through(const BlackholeProxy& proxy, const std::string& extra_params) {
  static const std::regex authority(R"(^(postgres(?:ql)?://(?:[^@/]*@)?)[^/?]*(.*)$)");
  std::smatch m;
  const std::string url = database_url();
  if (!std::regex_match(url, m, authority)) throw std::runtime_error("cannot parse " + url);
  std::string rest = m[2];
  rest += (rest.find('?') == std::string::npos ? "?" : "&") + extra_params;
  return m[1].str() + "127.0.0.1:" + std::to_string(proxy.port()) + rest;
}

std::pair<std::string, int> database_host_port() {
  static const std::regex authority(R"(^postgres(?:ql)?://(?:[^@/]*@)?([^:/?]+):(\d+).*$)");
  std::smatch m;
  const std::string url = database_url();
  if (!std::regex_match(url, m, authority)) throw std::runtime_error("no host:port in " + url);
  return {m[1], std::stoi(m[2])};
}

TEST(BlackholeProxy, APostgresqlSessionWorksThenHangsAfterBlackhole) {
  const auto [host, port] = database_host_port();
  BlackholeProxy proxy(host, port);
  pqxx::connection session(through(proxy, "connect_timeout=5&application_name=blackhole_test"));
  {
    pqxx::nontransaction tx(session);
    EXPECT_EQ(tx.exec1("SELECT 40 + 2")[0].as<int>(), 42);
  }

  proxy.blackhole();
  // A query on the open session never returns: the server never sees it, the
  // client never hears back, and no TCP-level event tells libpq anything.
  auto query = std::async(std::launch::async, [&session] {
    pqxx::nontransaction tx(session);
    return tx.exec1("SELECT 1")[0].as<std::string>();
  });
  EXPECT_EQ(query.wait_for(1500ms), std::future_status::timeout) << "the query returned through a black hole";
  // A new session cannot even log in; only libpq's connect_timeout ends the wait.
  const auto connect_start = std::chrono::steady_clock::now();
  EXPECT_THROW({ pqxx::connection c(through(proxy, "connect_timeout=2")); }, pqxx::broken_connection);
  EXPECT_GE(std::chrono::steady_clock::now() - connect_start, 1900ms);

  proxy.resume();
  pqxx::connection fresh(through(proxy, "connect_timeout=5"));
  pqxx::nontransaction tx(fresh);
  EXPECT_EQ(tx.exec1("SELECT 'back'")[0].as<std::string>(), "back");
  // The stuck session stays stuck after resume() on the client's side; on the
  // server's side it ends, and with it whatever it held (locks, a transaction).
  EXPECT_EQ(query.wait_for(500ms), std::future_status::timeout);
  bool server_side_gone = false;
  for (int i = 0; i < 100 && !server_side_gone; ++i) {
    server_side_gone = query_value("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                   "'blackhole_test'") == "0";
    if (!server_side_gone) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(server_side_gone) << "the black-holed session is still open on the server after resume()";
  // Closing the client side is what frees the query.
  proxy.close_all();
  ASSERT_EQ(query.wait_for(10s), std::future_status::ready);
  EXPECT_THROW(query.get(), pqxx::broken_connection);
}

// mdesync-blackhole, the same proxy for tests outside this process.
TEST(BlackholeProgram, WritesItsPortAndObeysSignals) {
  EchoServer echo;
  TempDir dir;
  const auto port_file = dir.path() / "port";
  const auto state_file = dir.path() / "state";
  Process program({std::string(MDESYNC_BIN_DIR) + "/mdesync-blackhole", "--listen-port-file", port_file.string(),
                   "--upstream", "127.0.0.1:" + std::to_string(echo.port()), "--state-file", state_file.string()},
                  dir.path() / "output");
  auto wait_for_file = [&](const std::filesystem::path& file, const std::string& text) {
    for (int i = 0; i < 500; ++i) {
      const auto content = read_file(file);
      if (!content.empty() && (text.empty() || content == text + "\n")) return content;
      std::this_thread::sleep_for(10ms);
    }
    return read_file(file);
  };
  const auto port_text = wait_for_file(port_file, "");
  ASSERT_FALSE(port_text.empty()) << read_file(dir.path() / "output");
  const int port = std::stoi(port_text);

  Client before(port);
  before.send("ping");
  EXPECT_EQ(before.read(4), "ping");

  program.kill(SIGUSR1);
  ASSERT_EQ(wait_for_file(state_file, "blackholed"), "blackholed\n");
  before.send("lost");
  EXPECT_EQ(before.read(4, 1s), "");
  before.expect_open();

  program.kill(SIGUSR2);
  ASSERT_EQ(wait_for_file(state_file, "forwarding"), "forwarding\n");
  Client after(port);
  after.send("pong");
  EXPECT_EQ(after.read(4), "pong");

  program.kill(SIGTERM);
  EXPECT_EQ(program.wait(5s), 0) << read_file(dir.path() / "output");
}

TEST(BlackholeProgram, RejectsABadCommandLine) {
  const auto r = run({std::string(MDESYNC_BIN_DIR) + "/mdesync-blackhole", "--upstream", "nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("usage:"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
