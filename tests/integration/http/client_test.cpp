// http::Client against a real server on 127.0.0.1 (plain and TLS, certificates
// made at test time). No assertion here depends on how long anything took.
#include "http/client.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "integration/http/test_server.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::http {
namespace {

using testing::contains;
using testing::error_of;
using testing::TestServer;

// One certificate for 127.0.0.1 and localhost, one for a name we never connect to.
const mdesync::testing::TestCertificate& local_cert() {
  static const auto cert = mdesync::testing::make_self_signed("localhost", {"DNS:localhost", "IP:127.0.0.1"});
  return cert;
}
const mdesync::testing::TestCertificate& other_cert() {
  static const auto cert = mdesync::testing::make_self_signed("other.example", {"DNS:other.example"});
  return cert;
}

class HttpClient : public ::testing::Test {
 protected:
  ClientOptions trusting(const mdesync::testing::TestCertificate& cert) {
    ClientOptions o;
    o.ca_file = dir_.write("ca" + std::to_string(files_++) + ".pem", cert.certificate_pem).string();
    return o;
  }
  static Request get(const std::string& url) { return Request{"GET", url, {}, {}}; }

  mdesync::testing::TempDir dir_;
  int files_ = 0;
};

TEST_F(HttpClient, PlainRequestSendsHostUserAgentGzipAndCallerHeadersAndReturnsDate) {
  TestServer server;
  Client client;
  Request r{"POST", server.url("/echo?x=1"), {{"Authorization", "Bearer t"}, {"Content-Type", "text/plain"}}, "payload"};
  const auto res = client.send(r);
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(contains(res.body, "POST /echo?x=1\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "Host: 127.0.0.1:" + std::to_string(server.port()) + "\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "User-Agent: mdesync/0.1\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "Accept-Encoding: gzip\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "Authorization: Bearer t\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "Content-Length: 7\n")) << res.body;
  EXPECT_TRUE(contains(res.body, "\n\npayload")) << res.body;
  EXPECT_EQ(res.header("date"), "Tue, 01 Jul 2025 10:00:00 GMT");
}

TEST_F(HttpClient, NonSuccessStatusesAreResponsesNotErrors) {
  TestServer server;
  Client client;
  const auto res = client.send(get(server.url("/status/503")));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.body, "busy");
}

TEST_F(HttpClient, TlsWithCaFileVerifiesByIpAndByNameWithSni) {
  TestServer server(local_cert());
  Client client(trusting(local_cert()));
  auto res = client.send(get(server.url("/hello")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello");
  EXPECT_EQ(server.last_server_name(), "");  // no SNI for IP literals

  res = client.send(get(server.url("/hello", "localhost")));
  EXPECT_EQ(res.body, "hello");
  EXPECT_EQ(server.last_server_name(), "localhost");
}

TEST_F(HttpClient, SelfSignedCertificateWithoutCaFileIsRefused) {
  TestServer server(local_cert());
  Client client;
  const auto e = error_of([&] { client.send(get(server.url("/hello?sig=SAS"))); });
  EXPECT_EQ(e.kind(), ErrorKind::fatal);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "TLS certificate verification failed for host 127.0.0.1: ")) << m;
  EXPECT_TRUE(contains(m, "self-signed")) << m;
  EXPECT_TRUE(contains(m, "set http.ca_file if it is signed by a private CA")) << m;
  EXPECT_EQ(server.requests_served(), 0);
}

TEST_F(HttpClient, CertificateForAnotherHostIsRefused) {
  TestServer server(other_cert());
  Client client(trusting(other_cert()));  // trusted, but not for 127.0.0.1
  const auto e = error_of([&] { client.send(get(server.url("/hello"))); });
  EXPECT_EQ(e.kind(), ErrorKind::fatal);
  const std::string m = e.what();
  EXPECT_TRUE(contains(m, "TLS certificate verification failed for host 127.0.0.1: ")) << m;
  EXPECT_TRUE(contains(m, "other.example")) << m;
  EXPECT_EQ(server.requests_served(), 0);

  const auto by_name = error_of([&] { client.send(get(server.url("/hello", "localhost"))); });
  EXPECT_EQ(by_name.kind(), ErrorKind::fatal);
  EXPECT_TRUE(contains(by_name.what(), "for host localhost")) << by_name.what();
}

TEST_F(HttpClient, KeepAliveReusesOneConnection) {
  for (const bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "tls" : "plain");
    auto server = tls ? std::make_unique<TestServer>(local_cert()) : std::make_unique<TestServer>();
    Client client(tls ? trusting(local_cert()) : ClientOptions{});
    for (int i = 0; i < 5; ++i) EXPECT_EQ(client.send(get(server->url("/hello"))).body, "hello");
    EXPECT_EQ(server->connections_accepted(), 1);
    EXPECT_EQ(client.connections_opened(), 1u);
  }
}

TEST_F(HttpClient, ConnectionClosedByTheServerIsReopenedTransparently) {
  for (const bool tls : {false, true}) {
    SCOPED_TRACE(tls ? "tls" : "plain");
    auto server = tls ? std::make_unique<TestServer>(local_cert()) : std::make_unique<TestServer>();
    Client client(tls ? trusting(local_cert()) : ClientOptions{});
    EXPECT_EQ(client.send(get(server->url("/close-after"))).body, "bye");
    EXPECT_EQ(client.send(get(server->url("/hello"))).body, "hello");
    EXPECT_EQ(client.send(get(server->url("/hello"))).body, "hello");
    EXPECT_EQ(server->connections_accepted(), 2);
    EXPECT_EQ(server->requests_served(), 3);
  }
}

TEST_F(HttpClient, GzipBodiesAreInflated) {
  TestServer server;
  Client client;
  const auto res = client.send(get(server.url("/gzip")));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, TestServer::gzip_plain_text());
  EXPECT_EQ(res.header("Content-Encoding"), std::nullopt);  // the caller sees identity bytes
  EXPECT_EQ(res.header("Content-Length"), std::nullopt);
}

TEST_F(HttpClient, ChunkedBodiesStreamInPieces) {
  for (const char* path : {"/chunked", "/chunked-gzip"}) {
    SCOPED_TRACE(path);
    TestServer server(local_cert());
    Client client(trusting(local_cert()));
    std::string got;
    int calls = 0;
    const auto res = client.stream(get(server.url(path)), [&](std::string_view bytes) {
      got.append(bytes);
      ++calls;
    });
    EXPECT_EQ(res.status, 200);
    EXPECT_TRUE(res.body.empty());
    EXPECT_EQ(got, TestServer::chunked_body());
    EXPECT_GT(calls, 1);
    // And the connection is still good for the next request.
    EXPECT_EQ(client.send(get(server.url(path))).body, TestServer::chunked_body());
    EXPECT_EQ(server.connections_accepted(), 1);
  }
}

TEST_F(HttpClient, StreamShowsTheHeadFirstAndKeepsErrorBodiesAwayFromTheSink) {
  TestServer server;
  Client client;
  std::vector<std::string> events;
  auto res = client.stream(
      get(server.url("/chunked")), [&](std::string_view) { events.push_back("body"); },
      [&](const Response& head) { events.push_back("head " + std::to_string(head.status)); });
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front(), "head 200");
  EXPECT_EQ(events.back(), "body");
  events.clear();
  res = client.stream(
      get(server.url("/status/503")), [&](std::string_view) { events.push_back("body"); },
      [&](const Response&) { events.push_back("head"); });
  EXPECT_EQ(res.status, 503);
  EXPECT_FALSE(res.body.empty());
  EXPECT_TRUE(events.empty());
}

TEST_F(HttpClient, TruncatedBodiesAreTransientErrors) {
  TestServer server;
  Client client;
  const auto e = error_of([&] { client.send(get(server.url("/truncated?sig=SECRETSIG"))); });
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  EXPECT_TRUE(contains(e.what(), "truncated body: got 10 of 100 bytes from 127.0.0.1:")) << e.what();
  EXPECT_FALSE(contains(e.what(), "SECRETSIG")) << e.what();

  std::string got;
  const auto streamed =
      error_of([&] { client.stream(get(server.url("/truncated")), [&](std::string_view b) { got.append(b); }); });
  EXPECT_EQ(streamed.kind(), ErrorKind::transient);
  EXPECT_EQ(got, "0123456789");

  const auto chunked = error_of([&] { client.send(get(server.url("/truncated-chunked"))); });
  EXPECT_EQ(chunked.kind(), ErrorKind::transient);
  EXPECT_TRUE(contains(chunked.what(), "truncated body: got ")) << chunked.what();

  // The broken connections were dropped; the client carries on.
  EXPECT_EQ(client.send(get(server.url("/hello"))).body, "hello");
}

TEST_F(HttpClient, ServerThatNeverAnswersTimesOut) {
  TestServer server;
  ClientOptions options;
  options.timeout = std::chrono::milliseconds(300);
  Client client(options);
  Request r = get(server.url("/never?skiptoken=SKIPSECRET"));
  r.headers.emplace_back("Authorization", "Bearer TOKENVALUE");
  const auto e = error_of([&] { client.send(r); });
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  EXPECT_TRUE(contains(e.what(), "timed out")) << e.what();
  EXPECT_FALSE(contains(e.what(), "TOKENVALUE")) << e.what();
  EXPECT_FALSE(contains(e.what(), "SKIPSECRET")) << e.what();
  // A timed-out connection is never reused.
  EXPECT_EQ(client.send(get(server.url("/hello"))).body, "hello");
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST_F(HttpClient, BodiesOverMaxBodyAreRefused) {
  TestServer server;
  ClientOptions options;
  options.max_body = 1000;
  Client client(options);
  const auto e = error_of([&] { client.send(get(server.url("/gzip"))); });  // small on the wire, big inflated
  EXPECT_TRUE(contains(e.what(), "exceeds http max_body")) << e.what();
  const auto declared = error_of([&] { client.send(get(server.url("/chunked"))); });
  EXPECT_TRUE(contains(declared.what(), "exceeds http max_body")) << declared.what();
  options.max_body = 4;
  Client tiny(options);
  const auto by_length = error_of([&] { tiny.send(get(server.url("/hello"))); });  // Content-Length: 5
  EXPECT_TRUE(contains(by_length.what(), "exceeds http max_body (5 > 4 bytes)")) << by_length.what();
  // stream() is not limited: it holds one chunk at a time.
  std::size_t total = 0;
  client.stream(get(server.url("/gzip")), [&](std::string_view b) { total += b.size(); });
  EXPECT_EQ(total, TestServer::gzip_plain_text().size());
}

TEST_F(HttpClient, ExceptionFromTheBodyCallbackPropagatesAndDropsTheConnection) {
  TestServer server;
  Client client;
  EXPECT_THROW(client.stream(get(server.url("/chunked")), [](std::string_view) { throw std::runtime_error("stop"); }),
               std::runtime_error);
  EXPECT_EQ(client.send(get(server.url("/hello"))).body, "hello");
  EXPECT_EQ(server.connections_accepted(), 2);
}

TEST_F(HttpClient, RefusedConnectionIsTransient) {
  unsigned short port = 0;
  {
    TestServer gone;  // a port that was just free, and is again
    port = gone.port();
  }
  Client client;
  const auto e = error_of([&] { client.send(get("http://127.0.0.1:" + std::to_string(port) + "/x")); });
  EXPECT_EQ(e.kind(), ErrorKind::transient);
  EXPECT_TRUE(contains(e.what(), "connecting to 127.0.0.1:")) << e.what();
}

TEST_F(HttpClient, PlainHttpToANonLoopbackHostIsRefusedWithoutConnecting) {
  TestServer server;
  Client client;
  const auto e = error_of([&] { client.send(get("http://example.com:" + std::to_string(server.port()) + "/")); });
  EXPECT_EQ(e.kind(), ErrorKind::config);
  EXPECT_EQ(client.connections_opened(), 0u);
  EXPECT_EQ(server.connections_accepted(), 0);
}

TEST_F(HttpClient, PlainHttpAndTlsToOneServerAreSeparateOrigins) {
  TestServer plain;
  TestServer tls(local_cert());
  Client client(trusting(local_cert()));
  EXPECT_EQ(client.send(get(plain.url("/hello"))).body, "hello");
  EXPECT_EQ(client.send(get(tls.url("/hello"))).body, "hello");
  EXPECT_EQ(client.send(get(plain.url("/hello"))).body, "hello");
  EXPECT_EQ(client.send(get(tls.url("/hello"))).body, "hello");
  EXPECT_EQ(client.connections_opened(), 2u);
}

}  // namespace
}  // namespace mdesync::http
