#include "integration/security/recording_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <mutex>
#include <thread>

namespace mdesync::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Generous: the relay must never be the reason a test fails on a loaded machine.
constexpr std::chrono::seconds io_timeout{300};

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out;
}

// The error a careless server would send: everything it was given, echoed back.
bhttp::response<bhttp::string_body> echo_failure(const bhttp::request<bhttp::string_body>& req, int status) {
  const std::string echoed =
      json_escape(std::string(req[bhttp::field::authorization]) + " " + std::string(req.target()) + " " + req.body());
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), req.version()};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  if (req.target().find("/oauth2/") != std::string_view::npos)
    res.body() = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret "
                 "provided. Request was: " + echoed + "\",\"error_codes\":[7000215]}";
  else
    res.body() = "{\"error\":{\"code\":\"InternalServerError\",\"message\":\"Request was: " + echoed + "\"}}";
  res.prepare_payload();
  return res;
}

bhttp::response<bhttp::string_body> redirect_to(const bhttp::request<bhttp::string_body>& req, const std::string& location) {
  bhttp::response<bhttp::string_body> res{bhttp::status::temporary_redirect, req.version()};
  res.set(bhttp::field::location, location);
  res.prepare_payload();
  return res;
}

}  // namespace

struct RecordingRelay::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::vector<std::thread> threads;
  std::atomic<int> upstream_port{0};
  std::atomic<int> echo_status{0};
  mutable std::mutex mutex;
  std::string forwarded_host;
  std::string redirect;
  std::string listen_ip;
  std::vector<Exchange> exchanges;

  void record(Exchange e) {
    std::lock_guard lock(mutex);
    exchanges.push_back(std::move(e));
  }

  std::string redirect_origin() const {
    std::lock_guard lock(mutex);
    return redirect;
  }

  std::string host_for_upstream(std::string_view client_host) const {
    std::lock_guard lock(mutex);
    return forwarded_host.empty() ? std::string(client_host) : forwarded_host;
  }

  asio::awaitable<std::optional<bhttp::response<bhttp::string_body>>> forward(bhttp::request<bhttp::string_body> req) {
    beast::tcp_stream upstream(co_await asio::this_coro::executor);
    upstream.expires_after(io_timeout);
    const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(upstream_port.load()));
    auto [cec] = co_await upstream.async_connect(ep, use_tuple);
    if (cec) co_return std::nullopt;
    req.set(bhttp::field::host, host_for_upstream(req[bhttp::field::host]));
    req.keep_alive(false);
    req.prepare_payload();
    upstream.expires_after(io_timeout);
    auto [wec, wn] = co_await bhttp::async_write(upstream, req, use_tuple);
    (void)wn;
    if (wec) co_return std::nullopt;
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(boost::none);
    upstream.expires_after(io_timeout);
    auto [rec, rn] = co_await bhttp::async_read(upstream, buffer, parser, use_tuple);
    (void)rn;
    // A cut or reset answer (the simulator's faults) reaches the client as a reset.
    if (rec) co_return std::nullopt;
    co_return parser.release();
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(8 * 1024 * 1024);
      stream.expires_after(io_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
      (void)n;
      if (ec) co_return;
      auto req = parser.release();
      Exchange e{std::string(req[bhttp::field::host]), std::string(req.method_string()), std::string(req.target()),
                 std::string(req[bhttp::field::authorization]), req.body(), 0, {}};
      const bool keep_alive = req.keep_alive();
      std::optional<bhttp::response<bhttp::string_body>> res;
      if (const auto origin = redirect_origin(); !origin.empty())
        res = redirect_to(req, origin + std::string(req.target()));
      else if (const int status = echo_status.load(); status != 0)
        res = echo_failure(req, status);
      else
        res = co_await forward(std::move(req));
      if (!res) {
        record(std::move(e));
        boost::system::error_code ignored;
        stream.socket().set_option(asio::socket_base::linger(true, 0), ignored);
        stream.socket().close(ignored);
        co_return;
      }
      e.status = static_cast<int>(res->result_int());
      if ((*res)[bhttp::field::content_type].find("json") != std::string_view::npos) e.response_body = res->body();
      record(std::move(e));
      res->keep_alive(keep_alive);
      stream.expires_after(io_timeout);
      auto [wec, wn] = co_await bhttp::async_write(stream, *res, use_tuple);
      (void)wn;
      if (wec || !keep_alive) {
        boost::system::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        co_return;
      }
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(ioc, session(std::move(socket)), asio::detached);
    }
  }
};

RecordingRelay::RecordingRelay(const std::string& listen_ip) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.listen_ip = listen_ip;
  const tcp::endpoint endpoint(asio::ip::make_address(listen_ip), 0);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.bind(endpoint);
  s.acceptor.listen();
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  // Two threads: export files download side by side.
  for (int i = 0; i < 2; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
}

RecordingRelay::~RecordingRelay() {
  auto& s = *impl_;
  asio::post(s.ioc, [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    s.ioc.stop();
  });
  for (auto& t : s.threads) t.join();
}

int RecordingRelay::port() const { return impl_->acceptor.local_endpoint().port(); }

std::string RecordingRelay::url(const std::string& name) const {
  return "http://" + (name.empty() ? impl_->listen_ip : name) + ":" + std::to_string(port());
}

void RecordingRelay::set_upstream_port(int port) { impl_->upstream_port = port; }

void RecordingRelay::set_forwarded_host(const std::string& authority) {
  std::lock_guard lock(impl_->mutex);
  impl_->forwarded_host = authority;
}

void RecordingRelay::set_redirect(const std::string& origin) {
  std::lock_guard lock(impl_->mutex);
  impl_->redirect = origin;
}

void RecordingRelay::set_echo_failure(int status) { impl_->echo_status = status; }

std::vector<Exchange> RecordingRelay::exchanges() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->exchanges;
}

void RecordingRelay::clear() {
  std::lock_guard lock(impl_->mutex);
  impl_->exchanges.clear();
}

}  // namespace mdesync::testing
