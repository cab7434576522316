// http::Client through an HTTP CONNECT proxy (tests/support/connect_proxy) to a
// real TLS server on 127.0.0.1. The server's name, api.mde.test, resolves
// nowhere but in the proxy: a request that arrives proves the client let the
// proxy resolve it, and a bypassed proxy could not have sent anything off the
// machine. No assertion here depends on how long anything took.
#include <gtest/gtest.h>

#include "core/error.hpp"
#include "http/client.hpp"
#include "integration/http/test_server.hpp"
#include "support/blackhole_proxy.hpp"
#include "support/connect_proxy.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::http {
namespace {

using testing::ConnectProxy;
using testing::ConnectProxyOptions;
using testing::contains;
using testing::error_of;
using testing::TestServer;

const std::string kHost = "api.mde.test";
const std::string kToken = "Bearer tok-zz-never-on-the-proxy-zz";

const mdesync::testing::TestCertificate& host_cert() {
  static const auto cert = mdesync::testing::make_self_signed(kHost, {"DNS:" + kHost});
  return cert;
}
// What a TLS-intercepting proxy at 127.0.0.1 could present.
const mdesync::testing::TestCertificate& loopback_cert() {
  static const auto cert = mdesync::testing::make_self_signed("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  return cert;
}

class ProxyTunnel : public ::testing::Test {
 protected:
  ClientOptions options(int proxy_port, const mdesync::testing::TestCertificate& trusted = host_cert()) {
    ClientOptions o;
    o.ca_file = dir_.write("ca" + std::to_string(files_++) + ".pem", trusted.certificate_pem).string();
    o.timeout = std::chrono::seconds(10);
    Proxy proxy;
    proxy.host = "127.0.0.1";
    proxy.port = std::to_string(proxy_port);
    o.proxy = proxy;
    return o;
  }
  static ConnectProxyOptions mapping() {
    ConnectProxyOptions o;
    o.hosts[kHost] = "127.0.0.1";
    return o;
  }
  std::string target(const TestServer& server) const { return kHost + ":" + std::to_string(server.port()); }
  static Request get(const std::string& url) { return Request{"GET", url, {{"Authorization", kToken}}, {}}; }

  mdesync::testing::TempDir dir_;
  int files_ = 0;
};

TEST_F(ProxyTunnel, TlsGoesThroughTheTunnelVerifiedAgainstTheRealHostsName) {
  TestServer server(host_cert());
  ConnectProxy proxy(mapping());
  Client client(options(proxy.port()));
  const auto r = client.send(get(server.url("/echo?sig=zz-sas-zz", kHost)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server.last_server_name(), kHost);  // SNI: the host's name, not the proxy's
  EXPECT_TRUE(contains(r.body, "Host: " + target(server) + "\n")) << r.body;
  EXPECT_TRUE(contains(r.body, "Authorization: " + kToken)) << r.body;
  ASSERT_EQ(proxy.log(), std::vector<std::string>{"CONNECT " + target(server) + " 200 user=-"});
  // All the proxy could read: the CONNECT head. The token, path and SAS went inside TLS.
  const std::string seen = proxy.seen();
  EXPECT_TRUE(seen.starts_with("CONNECT " + target(server) + " HTTP/1.1\r\n")) << seen.substr(0, 200);
  for (const std::string& secret : std::vector<std::string>{kToken.substr(7), "/echo", "zz-sas-zz"})
    EXPECT_FALSE(contains(seen, secret)) << secret;
}

TEST_F(ProxyTunnel, AKeptAliveConnectionKeepsItsTunnel) {
  TestServer server(host_cert());
  ConnectProxy proxy(mapping());
  Client client(options(proxy.port()));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client.send(get(server.url("/hello", kHost))).status, 200);
  EXPECT_EQ(proxy.tunnels_opened(), 1u);
  EXPECT_EQ(client.connections_opened(), 1u);
}

TEST_F(ProxyTunnel, BasicCredentialsGoToTheProxyAndNeverToTheHost) {
  TestServer server(host_cert());
  auto o = mapping();
  o.user = "svc-mdesync";
  o.password = "pr0xy:p@ss";
  ConnectProxy proxy(o);
  auto client_options = options(proxy.port());
  client_options.proxy->user = "svc-mdesync";
  int asked = 0;
  client_options.proxy->password = [&asked] {
    ++asked;
    return std::string("pr0xy:p@ss");
  };
  Client client(client_options);
  const auto r = client.send(get(server.url("/echo", kHost)));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(proxy.log(), std::vector<std::string>{"CONNECT " + target(server) + " 200 user=svc-mdesync"});
  EXPECT_FALSE(contains(r.body, "Proxy-Authorization")) << r.body;
  EXPECT_FALSE(contains(r.body, "pr0xy")) << r.body;
}

TEST_F(ProxyTunnel, A407WithoutCredentialsNamesTheProxyAndTheSettingsToGive) {
  TestServer server(host_cert());
  auto o = mapping();
  o.user = "svc-mdesync";
  o.password = "secret";
  ConnectProxy proxy(o);
  Client client(options(proxy.port()));
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::config);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "proxy 127.0.0.1:" + std::to_string(proxy.port()) + " asks for credentials")) << m;
  EXPECT_TRUE(contains(m, "HTTP 407")) << m;
  EXPECT_TRUE(contains(m, "Proxy-Authenticate: Basic")) << m;
  EXPECT_TRUE(contains(m, "http.proxy_password_file")) << m;
  EXPECT_EQ(server.requests_served(), 0);
}

TEST_F(ProxyTunnel, WrongCredentialsAreRefusedWithoutShowingThePassword) {
  TestServer server(host_cert());
  auto o = mapping();
  o.user = "svc-mdesync";
  o.password = "right";
  ConnectProxy proxy(o);
  auto client_options = options(proxy.port());
  client_options.proxy->user = "svc-mdesync";
  client_options.proxy->password = [] { return std::string("wr0ng-pw-zz"); };
  Client client(client_options);
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::config);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "refused the credentials of user svc-mdesync")) << m;
  EXPECT_FALSE(contains(m, "wr0ng-pw-zz")) << m;
  EXPECT_EQ(proxy.log(), std::vector<std::string>{"CONNECT " + target(server) + " 407 user=?"});
}

TEST_F(ProxyTunnel, AnUnreadablePasswordFailsTheRequestBeforeAnythingIsSent) {
  TestServer server(host_cert());
  ConnectProxy proxy(mapping());
  auto client_options = options(proxy.port());
  client_options.proxy->user = "svc-mdesync";
  client_options.proxy->password = []() -> std::string {
    throw Error(ErrorKind::config, "http.proxy_password_file: cannot open secret file /nope");
  };
  Client client(client_options);
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::config);
  EXPECT_TRUE(contains(e.what(), "/nope")) << e.what();
  EXPECT_TRUE(proxy.log().empty());
}

TEST_F(ProxyTunnel, ARefusingProxyIsFatalAndNamesTheHost) {
  TestServer server(host_cert());
  auto o = mapping();
  o.refuse_status = 403;
  ConnectProxy proxy(o);
  Client client(options(proxy.port()));
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::fatal);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "refused a tunnel to " + target(server) + " (HTTP 403")) << m;
  EXPECT_TRUE(contains(m, "http.no_proxy")) << m;
}

TEST_F(ProxyTunnel, AProxyThatCannotReachTheHostIsTransient) {
  ConnectProxy proxy(mapping());
  Client client(options(proxy.port()));
  const int closed_port = mdesync::testing::free_loopback_port();
  const auto e = error_of([&] { client.send(get("https://" + kHost + ":" + std::to_string(closed_port) + "/")); });
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  EXPECT_TRUE(contains(e.what(), "could not open a tunnel")) << e.what();
  EXPECT_TRUE(contains(e.what(), "HTTP 502")) << e.what();
}

TEST_F(ProxyTunnel, ABlackHoledProxyFailsWithinTheDeadlineNamingTheProxy) {
  TestServer server(host_cert());
  ConnectProxy proxy(mapping());
  mdesync::testing::BlackholeProxy blackhole("127.0.0.1", proxy.port());
  blackhole.blackhole();
  auto client_options = options(blackhole.port());
  client_options.timeout = std::chrono::milliseconds(300);
  Client client(client_options);
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "timed out after 300 ms waiting for proxy 127.0.0.1:" + std::to_string(blackhole.port()) +
                              " to open a tunnel to " + target(server)))
      << m;
  EXPECT_EQ(server.requests_served(), 0);
}

TEST_F(ProxyTunnel, AnInterceptingCertificateForTheProxysAddressIsRefused) {
  // A certificate valid for 127.0.0.1, where the proxy is, but not for the host.
  TestServer server(loopback_cert());
  ConnectProxy proxy(mapping());
  Client client(options(proxy.port(), loopback_cert()));
  const auto e = error_of([&] { client.send(get(server.url("/hello", kHost))); });
  EXPECT_EQ(e.kind(), ErrorKind::fatal);
  EXPECT_TRUE(contains(e.what(), "TLS certificate verification failed for host " + kHost)) << e.what();
  EXPECT_EQ(server.requests_served(), 0);
}

TEST_F(ProxyTunnel, NoProxyHostsAndPlainHttpGoDirect) {
  TestServer tls(loopback_cert());
  TestServer plain;
  ConnectProxy proxy(mapping());
  auto client_options = options(proxy.port(), loopback_cert());
  client_options.proxy->bypass = NoProxy::parse("localhost, 10.0.0.0/8");
  Client client(client_options);
  EXPECT_EQ(client.send(get(tls.url("/hello", "localhost"))).status, 200);
  EXPECT_EQ(client.send(get(plain.url("/hello"))).status, 200);  // never proxied
  EXPECT_TRUE(proxy.log().empty());
  EXPECT_TRUE(proxy.seen().empty());
}

}  // namespace
}  // namespace mdesync::http
