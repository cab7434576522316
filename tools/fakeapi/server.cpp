// Beast + Asio + OpenSSL: accept connections, read requests, hand them to Service,
// write what it answers (or misbehave the way it asks: reset, truncate, delay).
#include "server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <thread>
#include <vector>

#include "core/log.hpp"

namespace mdesync::fakeapi {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds idle_timeout{300};      // keep-alive connections
constexpr std::chrono::seconds handshake_timeout{30};
constexpr std::chrono::seconds write_timeout{900};     // a 100 MB page to a slow reader

HttpRequest to_request(const http::request<http::string_body>& req, bool loopback) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  r.target = std::string(req.target());
  r.host = std::string(req[http::field::host]);
  r.authorization = std::string(req[http::field::authorization]);
  r.accept_encoding = std::string(req[http::field::accept_encoding]);
  r.range = std::string(req[http::field::range]);
  r.metadata = std::string(req["Metadata"]);
  r.identity_header = std::string(req["X-IDENTITY-HEADER"]);
  r.forwarded = req.find("X-Forwarded-For") != req.end();
  r.body = req.body();
  r.from_loopback = loopback;
  return r;
}

// Close with RST, without any TLS close_notify: what a crashed upstream looks like.
template <class Stream>
void abort_connection(Stream& stream) {
  auto& sock = beast::get_lowest_layer(stream).socket();
  boost::system::error_code ec;
  sock.set_option(asio::socket_base::linger(true, 0), ec);
  sock.close(ec);
}

// Returns true when the connection may be shut down gracefully afterwards.
template <class Stream>
asio::awaitable<bool> serve(Service& service, Stream& stream, bool loopback) {
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(8 * 1024 * 1024);
    beast::get_lowest_layer(stream).expires_after(idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
    (void)n;
    if (ec) co_return ec == http::error::end_of_stream;
    // curl sends "Expect: 100-continue" before bodies over 1 KiB (client assertions are).
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      auto [cec, cn] = co_await http::async_write(stream, go_on, use_tuple);
      (void)cn;
      if (cec) co_return false;
    }
    if (!parser.is_done()) {
      auto [bec, bn] = co_await http::async_read(stream, buffer, parser, use_tuple);
      (void)bn;
      if (bec) co_return false;
    }
    const auto& req = parser.get();
    HttpResponse resp = service.handle(to_request(req, loopback));

    if (resp.delay.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(resp.delay);
      co_await timer.async_wait(use_tuple);
    }
    if (resp.action == WireAction::reset) {
      abort_connection(stream);
      co_return false;
    }
    http::response<http::string_body> res{static_cast<http::status>(resp.status), req.version()};
    res.set(http::field::server, "mde-fakeapi");
    for (auto& [k, v] : resp.headers) res.set(k, v);
    const bool keep_alive = req.keep_alive() && resp.action == WireAction::send;
    res.body() = std::move(resp.body);
    res.prepare_payload();
    res.keep_alive(keep_alive);
    beast::get_lowest_layer(stream).expires_after(write_timeout);

    if (resp.action == WireAction::truncate) {
      // Announce the full length, send part of it, hang up.
      http::response_serializer<http::string_body> sr{res};
      auto [hec, hn] = co_await http::async_write_header(stream, sr, use_tuple);
      (void)hn;
      if (!hec) {
        const std::size_t part = std::min(resp.truncate_at, res.body().size());
        co_await asio::async_write(stream, asio::buffer(res.body().data(), part), use_tuple);
      }
      abort_connection(stream);
      co_return false;
    }
    auto [wec, wn] = co_await http::async_write(stream, res, use_tuple);
    (void)wn;
    if (wec) co_return false;
    if (!keep_alive) co_return true;
  }
}

asio::awaitable<void> plain_session(Service& service, tcp::socket socket) {
  boost::system::error_code ec;
  const bool loopback = socket.remote_endpoint(ec).address().is_loopback() && !ec;
  beast::tcp_stream stream(std::move(socket));
  if (co_await serve(service, stream, loopback)) stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

asio::awaitable<void> tls_session(Service& service, ssl::context& ctx, tcp::socket socket) {
  boost::system::error_code ec;
  const bool loopback = socket.remote_endpoint(ec).address().is_loopback() && !ec;
  beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), ctx);
  beast::get_lowest_layer(stream).expires_after(handshake_timeout);
  auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
  if (hec) co_return;
  if (co_await serve(service, stream, loopback)) {
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await stream.async_shutdown(use_tuple);
  }
}

}  // namespace

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(host, ec);
  return !ec && addr.is_loopback();
}

struct Server::Impl {
  Service& service;
  ServerOptions options;
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor{ioc};
  asio::signal_set signals{ioc, SIGINT, SIGTERM};

  Impl(Service& s, const ServerOptions& o) : service(s), options(o) {}

  asio::awaitable<void> accept_loop() {
    while (true) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;  // e.g. EMFILE; keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true), ec);
      const auto ex = socket.get_executor();
      if (tls)
        asio::co_spawn(ex, tls_session(service, *tls, std::move(socket)), asio::detached);
      else
        asio::co_spawn(ex, plain_session(service, std::move(socket)), asio::detached);
    }
  }
};

Server::Server(Service& service, const ServerOptions& options) : impl_(std::make_unique<Impl>(service, options)) {
  auto& s = *impl_;
  if (options.tls) {
    s.tls.emplace(ssl::context::tls_server);
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    s.tls->use_certificate_chain(asio::buffer(options.certificate_pem));
    s.tls->use_private_key(asio::buffer(options.private_key_pem), ssl::context::pem);
  }
  const std::string host = options.listen_host == "localhost" ? "127.0.0.1" : options.listen_host;
  const tcp::endpoint endpoint(asio::ip::make_address(host), options.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
}

Server::~Server() = default;

std::uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string Server::bound_address() const {
  const auto ep = impl_->acceptor.local_endpoint();
  const auto a = ep.address();
  return a.is_v6() ? "[" + a.to_string() + "]:" + std::to_string(ep.port()) : a.to_string() + ":" + std::to_string(ep.port());
}

void Server::run() {
  auto& s = *impl_;
  s.signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < std::max(1u, s.options.threads); ++i) extra.emplace_back([&s] { s.ioc.run(); });
  s.ioc.run();
  for (auto& t : extra) t.join();
}

void Server::stop() {
  auto& s = *impl_;
  asio::post(s.ioc, [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    s.signals.cancel(ec);
    s.ioc.stop();
  });
}

}  // namespace mdesync::fakeapi
