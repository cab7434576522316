// One coroutine per connection on the server's own io_context. Each request is
// read through a request_parser with header and body limits under a deadline
// (beast::tcp_stream::expires_after), answered, and the connection kept alive
// as long as the client asks for it.
#include "daemon/metrics_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"

namespace mdesync {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 8 * 1024;
// After an error answer we read (and drop) at most this much of what the client
// still sends before closing, so our close does not reset the connection and
// destroy the answer in flight (a "lingering close").
constexpr std::size_t kLingerLimit = 64 * 1024;
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

Response reply(bhttp::status status, unsigned version, std::string body, const char* type = kTextType) {
  Response res{status, version};
  res.set(bhttp::field::server, "mdesync");
  res.set(bhttp::field::content_type, type);
  res.set(bhttp::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string address_text(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

struct MetricsServer::Impl {
  std::function<std::string()> render_metrics;
  std::function<Health()> health;
  MetricsServerLimits limits;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::uint16_t bound_port = 0;
  std::size_t active = 0;  // touched on the server thread only
  std::thread thread;

  void bind(const std::string& host, std::uint16_t port) {
    boost::system::error_code ec;
    tcp::endpoint endpoint;
    const auto address = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, port);
    } else {
      tcp::resolver resolver(ioc);
      const auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty())
        throw Error(ErrorKind::config, "metrics.listen: cannot resolve " + host + ": " +
                                           (ec ? ec.message() : std::string("no address")));
      endpoint = results.begin()->endpoint();
    }
    const auto fail = [&](const char* doing) {
      throw Error(ErrorKind::config,
                  "metrics.listen: cannot " + std::string(doing) + " " + address_text(host, port) + ": " + ec.message());
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) fail("open");
    // A restarted daemon must be able to bind while old connections sit in TIME_WAIT.
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (ec) fail("configure");
    acceptor.bind(endpoint, ec);
    if (ec) fail("bind");
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    bound_port = acceptor.local_endpoint().port();
  }

  awaitable<void> accept_loop() {
    asio::steady_timer pause(ioc);
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec == asio::error::operation_aborted) co_return;
      if (ec) {
        // EMFILE and friends: do not spin; the condition may clear.
        log::warn("metrics_accept_failed", {{"error", ec.message()}});
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(use_tuple);
        continue;
      }
      if (active >= limits.max_connections) {
        boost::system::error_code ignored;
        socket.close(ignored);  // over the limit: refuse rather than queue
        continue;
      }
      ++active;
      asio::co_spawn(ioc, session(std::move(socket)), [this](std::exception_ptr) { --active; });
    }
  }

  awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(kHeaderLimit);
      parser.body_limit(limits.max_body);
      stream.expires_after(limits.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      if (ec == bhttp::error::body_limit) {
        co_await finish_with(stream, reply(bhttp::status::payload_too_large, 11, "request body too large\n"));
        co_return;
      }
      if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::eof) break;
      if (ec) {
        co_await finish_with(stream, reply(bhttp::status::bad_request, 11, "bad request\n"));
        co_return;
      }
      const Request& req = parser.get();
      Response res = respond(req);
      res.keep_alive(req.keep_alive());
      stream.expires_after(limits.read_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
      if (wec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Sends an error answer with Connection: close, then drains what the client
  // still sends (bounded, under the deadline) before closing.
  awaitable<void> finish_with(beast::tcp_stream& stream, Response res) {
    res.keep_alive(false);
    stream.expires_after(limits.read_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, use_tuple);
    if (wec) co_return;
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    char sink[4096];
    for (std::size_t drained = 0; drained < kLingerLimit;) {
      auto [ec, got] = co_await stream.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
      drained += got;
    }
  }

  Response respond(const Request& req) {
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics" && path != "/healthz") return reply(bhttp::status::not_found, req.version(), "not found\n");
    if (req.method() != bhttp::verb::get) {
      Response res = reply(bhttp::status::method_not_allowed, req.version(), "method not allowed\n");
      res.set(bhttp::field::allow, "GET");
      return res;
    }
    try {
      if (path == "/metrics") return reply(bhttp::status::ok, req.version(), render_metrics(), kMetricsType);
      const Health h = health();
      if (h.ok) return reply(bhttp::status::ok, req.version(), "ok\n");
      return reply(bhttp::status::service_unavailable, req.version(), h.reason + "\n");
    } catch (const std::exception& e) {
      log::error("metrics_handler_failed", {{"path", path}, {"error", e.what()}});
      return reply(bhttp::status::internal_server_error, req.version(), "internal error\n");
    }
  }
};

MetricsServer::MetricsServer(const std::string& host, std::uint16_t port, std::function<std::string()> render_metrics,
                             std::function<Health()> health, MetricsServerLimits limits)
    : impl_(std::make_unique<Impl>()) {
  impl_->render_metrics = std::move(render_metrics);
  impl_->health = std::move(health);
  impl_->limits = limits;
  impl_->bind(host, port);
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] {
    try {
      impl->ioc.run();
    } catch (const std::exception& e) {
      log::error("metrics_server_stopped", {{"error", e.what()}});
    }
  });
  log::info("metrics_listening", {{"address", address_text(host, impl_->bound_port)}});
}

MetricsServer::~MetricsServer() {
  // Stopping the context ends every session where it stands; destroying it (with
  // impl_) frees their coroutine frames and closes their sockets.
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t MetricsServer::port() const { return impl_->bound_port; }

}  // namespace mdesync
