// Starts MetricsServer on 127.0.0.1 port 0 and talks to it with http::Client
// (and, for the misbehaving-client cases, a raw socket).
#include "daemon/metrics_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <string>

#include "core/error.hpp"
#include "http/client.hpp"
#include "metrics/names.hpp"
#include "metrics/registry.hpp"

namespace mdesync {
namespace {

class MetricsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics::describe_all(registry);
    registry.add(metrics::names::rows_upserted, {{"tenant", "contoso"}, {"dataset", "cpe"}}, 42);
  }

  std::unique_ptr<MetricsServer> start(MetricsServerLimits limits = {}) {
    return std::make_unique<MetricsServer>(
        "127.0.0.1", 0, [this] { return registry.render(); },
        [this] {
          std::lock_guard lock(mutex);
          return health;
        },
        limits);
  }

  http::Response fetch(const MetricsServer& server, const std::string& path, const std::string& method = "GET",
                       std::string body = {}) {
    http::Request req;
    req.method = method;
    req.url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
    req.body = std::move(body);
    return client.send(req);
  }

  void set_health(Health h) {
    std::lock_guard lock(mutex);
    health = std::move(h);
  }

  metrics::Registry registry;
  std::mutex mutex;
  Health health{true, ""};
  http::Client client;
};

// A blocking socket to the server with a generous receive timeout, so a test
// that goes wrong fails instead of hanging.
int raw_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until the server closes; "<error>" when the receive timed out or failed.
std::string read_to_eof(int fd) {
  std::string got;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return got;
    if (n < 0) return "<error>";
    got.append(buf, static_cast<std::size_t>(n));
  }
}

TEST_F(MetricsServerTest, BindsAFreePortWhenAskedForPortZero) {
  auto server = start();
  EXPECT_NE(server->port(), 0);
}

TEST_F(MetricsServerTest, MetricsAreServedInPrometheusTextFormat) {
  auto server = start();
  const auto res = fetch(*server, "/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res.body, registry.render());
  EXPECT_NE(res.body.find("mdesync_rows_upserted_total{dataset=\"cpe\",tenant=\"contoso\"} 42\n"), std::string::npos);
  EXPECT_NE(res.body.find("\nmdesync_up 1\n"), std::string::npos);
}

TEST_F(MetricsServerTest, EachScrapeRendersTheCurrentValues) {
  auto server = start();
  EXPECT_NE(fetch(*server, "/metrics").body.find("contoso\"} 42\n"), std::string::npos);
  registry.add(metrics::names::rows_upserted, {{"tenant", "contoso"}, {"dataset", "cpe"}}, 1);
  EXPECT_NE(fetch(*server, "/metrics").body.find("contoso\"} 43\n"), std::string::npos);
}

TEST_F(MetricsServerTest, QueryStringsAreIgnored) {
  auto server = start();
  EXPECT_EQ(fetch(*server, "/metrics?name[]=x").status, 200);
}

TEST_F(MetricsServerTest, HealthzIsOkWhileHealthy) {
  auto server = start();
  const auto res = fetch(*server, "/healthz");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "ok\n");
}

TEST_F(MetricsServerTest, HealthzIs503WithTheReasonWhenUnhealthy) {
  auto server = start();
  set_health({false, "tenant=contoso dataset=cpe last success 3h ago"});
  const auto res = fetch(*server, "/healthz");
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.body, "tenant=contoso dataset=cpe last success 3h ago\n");
  set_health({true, ""});
  EXPECT_EQ(fetch(*server, "/healthz").status, 200);
}

TEST_F(MetricsServerTest, UnknownPathsAre404) {
  auto server = start();
  EXPECT_EQ(fetch(*server, "/").status, 404);
  EXPECT_EQ(fetch(*server, "/metricsx").status, 404);
  EXPECT_EQ(fetch(*server, "/healthz/extra").status, 404);
}

TEST_F(MetricsServerTest, OtherMethodsAre405WithAllow) {
  auto server = start();
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    const auto res = fetch(*server, "/metrics", method, "x");
    EXPECT_EQ(res.status, 405) << method;
    EXPECT_EQ(res.header("Allow"), "GET") << method;
  }
  EXPECT_EQ(fetch(*server, "/healthz", "POST").status, 405);
}

TEST_F(MetricsServerTest, LargeRequestBodiesAre413) {
  auto server = start();
  const auto res = fetch(*server, "/metrics", "POST", std::string(8 * 1024, 'x'));
  EXPECT_EQ(res.status, 413);
  // The server still answers afterwards.
  EXPECT_EQ(fetch(*server, "/healthz").status, 200);
}

TEST_F(MetricsServerTest, AFailingCallbackIs500AndTheServerGoesOn) {
  std::atomic<bool> fail{true};
  MetricsServer server(
      "127.0.0.1", 0,
      [&]() -> std::string {
        if (fail) throw std::runtime_error("render failed");
        return "fine\n";
      },
      [] { return Health{true, ""}; });
  EXPECT_EQ(fetch(server, "/metrics").status, 500);
  fail = false;
  const auto res = fetch(server, "/metrics");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "fine\n");
}

TEST_F(MetricsServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  auto server = start();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(fetch(*server, "/metrics").status, 200);
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST_F(MetricsServerTest, AStalledClientDoesNotBlockOthers) {
  auto server = start();
  // Half a request, never finished: a one-connection-at-a-time server would hang here.
  const int stalled = raw_connect(server->port());
  ASSERT_GE(stalled, 0);
  const std::string partial = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(::send(stalled, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  http::Client second;
  http::Request req;
  req.url = "http://127.0.0.1:" + std::to_string(server->port()) + "/healthz";
  EXPECT_EQ(second.send(req).status, 200);
  EXPECT_EQ(fetch(*server, "/metrics").status, 200);
  ::close(stalled);
}

TEST_F(MetricsServerTest, AClientThatSendsNothingIsDisconnectedAfterTheReadTimeout) {
  MetricsServerLimits limits;
  limits.read_timeout = std::chrono::milliseconds(200);
  auto server = start(limits);
  const int fd = raw_connect(server->port());
  ASSERT_GE(fd, 0);
  // The server closes first (EOF, no answer); our own 60 s receive timeout would report "<error>".
  EXPECT_EQ(read_to_eof(fd), "");
  ::close(fd);
}

TEST_F(MetricsServerTest, MalformedRequestsGet400) {
  auto server = start();
  const int fd = raw_connect(server->port());
  ASSERT_GE(fd, 0);
  const std::string junk = "NOT HTTP AT ALL\r\n\r\n";
  ASSERT_EQ(::send(fd, junk.data(), junk.size(), 0), static_cast<ssize_t>(junk.size()));
  EXPECT_TRUE(read_to_eof(fd).starts_with("HTTP/1.1 400 "));
  ::close(fd);
}

TEST_F(MetricsServerTest, ConnectionsBeyondTheLimitAreClosed) {
  MetricsServerLimits limits;
  limits.max_connections = 1;
  auto server = start(limits);
  // The client's kept-alive connection occupies the only slot.
  ASSERT_EQ(fetch(*server, "/healthz").status, 200);
  const int fd = raw_connect(server->port());
  ASSERT_GE(fd, 0);
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)::send(fd, get.data(), get.size(), MSG_NOSIGNAL);
  const std::string got = read_to_eof(fd);
  EXPECT_TRUE(got.empty() || got == "<error>") << got;  // closed (or reset) without an answer
  ::close(fd);
  client.close();
}

TEST_F(MetricsServerTest, BindingAPortInUseIsAConfigError) {
  auto first = start();
  try {
    MetricsServer second("127.0.0.1", first->port(), [] { return std::string(); }, [] { return Health{true, ""}; });
    FAIL() << "bound a port already in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_NE(std::string(e.what()).find("metrics.listen"), std::string::npos) << e.what();
  }
}

TEST_F(MetricsServerTest, StopsCleanlyWithAConnectionOpen) {
  auto server = start();
  ASSERT_EQ(fetch(*server, "/metrics").status, 200);  // the client keeps this connection alive
  server.reset();                                      // must not hang or crash
  SUCCEED();
}

}  // namespace
}  // namespace mdesync
