// The server runs C++20 coroutines on its own io_context thread; stopping it
// destroys every pending session, so a test that fails half-way never hangs.
//
// Paths:
//   /hello          200 "hello", keep-alive, with a Date header
//   /echo           200, body lists the request line, headers and body it got
//   /close-after    200 "bye", then closes the connection without saying so
//                   (what an idle timeout on a load balancer looks like)
//   /gzip           200, Content-Encoding: gzip, Content-Length
//   /chunked        200, chunked transfer encoding, many chunks, flushed one by one
//   /chunked-gzip   200, gzip body sent chunked
//   /truncated      Content-Length: 100, 10 bytes, then close
//   /truncated-chunked  some chunks, then close before the last chunk
//   /never          reads the request and never answers
//   /status/503     503 with a short body
#include "integration/http/test_server.hpp"

#include <openssl/ssl.h>
#include <zlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace mdesync::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr const char* kDate = "Tue, 01 Jul 2025 10:00:00 GMT";

std::string gzip(const std::string& plain) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&zs, plain.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string head(int status, const std::string& fields) {
  return "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") + "\r\nDate: " + kDate +
         "\r\nServer: mdesync-test\r\n" + fields + "\r\n";
}

std::string hex(std::size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

void close_stream(tcp::socket& s) {
  boost::system::error_code ec;
  s.close(ec);
}
void close_stream(ssl::stream<tcp::socket>& s) {
  boost::system::error_code ec;
  s.lowest_layer().close(ec);
}

}  // namespace

std::string TestServer::gzip_plain_text() {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
  return text;
}

std::string TestServer::chunked_body() {
  std::string body;
  for (int i = 0; body.size() < 300'000; ++i) body += static_cast<char>('a' + i % 26);
  return body;
}

struct TestServer::Impl {
  TestServer& owner;
  std::unique_ptr<ssl::context> tls;  // outlives the io_context and every stream in it
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  const unsigned short port = acceptor.local_endpoint().port();  // read once, before the thread starts
  std::thread thread;
  mutable std::mutex mutex;
  std::string server_name;

  explicit Impl(TestServer& o) : owner(o) {}

  void start() {
    asio::co_spawn(ioc, listen(), asio::detached);
    thread = std::thread([this] { ioc.run(); });
  }

  void stop() {
    ioc.stop();
    if (thread.joinable()) thread.join();
  }

  awaitable<void> listen() {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(use_awaitable);
      ++owner.accepted_;
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }

  awaitable<void> session(tcp::socket socket) {
    try {
      if (!tls) {
        co_await serve(socket);
        co_return;
      }
      ssl::stream<tcp::socket> stream(std::move(socket), *tls);
      co_await stream.async_handshake(ssl::stream_base::server, use_awaitable);
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      {
        std::lock_guard lock(mutex);
        server_name = sni ? sni : "";
      }
      co_await serve(stream);
    } catch (const std::exception&) {
      // The client went away, or refused our certificate: both are test outcomes.
    }
  }

  template <class Stream>
  awaitable<void> write(Stream& s, const std::string& bytes) {
    co_await asio::async_write(s, asio::buffer(bytes), use_awaitable);
  }

  template <class Stream>
  awaitable<void> serve(Stream& s) {
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      co_await bhttp::async_read(s, buffer, req, use_awaitable);
      ++owner.requests_;
      const std::string target(req.target());
      const std::string path = target.substr(0, target.find('?'));
      if (path == "/hello") {
        co_await write(s, head(200, "Content-Length: 5\r\n") + "hello");
      } else if (path == "/echo") {
        std::string body = std::string(req.method_string()) + " " + target + "\n";
        for (const auto& f : req) body += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
        body += "\n" + req.body();
        co_await write(s, head(200, "Content-Length: " + std::to_string(body.size()) + "\r\n") + body);
      } else if (path == "/close-after") {
        co_await write(s, head(200, "Content-Length: 3\r\n") + "bye");
        close_stream(s);
        co_return;
      } else if (path == "/gzip") {
        const auto body = gzip(gzip_plain_text());
        co_await write(s, head(200, "Content-Encoding: gzip\r\nContent-Length: " + std::to_string(body.size()) +
                                        "\r\n") +
                              body);
      } else if (path == "/chunked" || path == "/chunked-gzip" || path == "/truncated-chunked") {
        const auto body = path == "/chunked-gzip" ? gzip(chunked_body()) : chunked_body();
        co_await write(s, head(200, std::string(path == "/chunked-gzip" ? "Content-Encoding: gzip\r\n" : "") +
                                        "Transfer-Encoding: chunked\r\n"));
        std::size_t at = 0;
        for (std::size_t i = 1; at < body.size(); ++i) {
          const std::size_t n = std::min(body.size() - at, (i * 7919) % 20000 + 1);
          co_await write(s, hex(n) + "\r\n" + body.substr(at, n) + "\r\n");
          at += n;
          if (path == "/truncated-chunked" && at > body.size() / 2) {
            close_stream(s);
            co_return;
          }
        }
        co_await write(s, "0\r\n\r\n");
      } else if (path == "/truncated") {
        co_await write(s, head(200, "Content-Length: 100\r\n") + "0123456789");
        close_stream(s);
        co_return;
      } else if (path == "/never") {
        char sink[256];
        for (;;) co_await s.async_read_some(asio::buffer(sink), use_awaitable);  // until the client gives up
      } else if (path == "/status/503") {
        co_await write(s, head(503, "Content-Length: 4\r\n") + "busy");
      } else {
        co_await write(s, head(404, "Content-Length: 0\r\n"));
      }
    }
  }
};

TestServer::TestServer() : impl_(std::make_unique<Impl>(*this)) { impl_->start(); }

TestServer::TestServer(const TestCertificate& certificate) : impl_(std::make_unique<Impl>(*this)) {
  impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  impl_->tls->use_certificate_chain(asio::buffer(certificate.certificate_pem));
  impl_->tls->use_private_key(asio::buffer(certificate.private_key_pem), ssl::context::pem);
  impl_->start();
}

TestServer::~TestServer() { impl_->stop(); }

unsigned short TestServer::port() const { return impl_->port; }

std::string TestServer::url(const std::string& path, const std::string& host) const {
  return std::string(impl_->tls ? "https" : "http") + "://" + host + ":" + std::to_string(port()) + path;
}

std::string TestServer::last_server_name() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->server_name;
}

}  // namespace mdesync::testing
