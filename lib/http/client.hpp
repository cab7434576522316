#pragma once
// The HTTPS client: blocking for the caller, every network operation under a
// deadline. Beast and Asio stay inside client.cpp; this header is cheap.
//
// Invariants kept by client.cpp:
//  - TLS peers are always verified (system trust store plus ClientOptions::ca_file,
//    host name or IP checked against the certificate). There is no switch to turn
//    verification off.
//  - Plain http:// reaches loopback hosts only (127.0.0.0/8, ::1, localhost), and
//    the instance metadata address only for a client built to ask it for
//    managed identity tokens (ClientOptions::allow_instance_metadata).
//  - With ClientOptions::proxy, https:// goes through an HTTP CONNECT tunnel
//    (see http/proxy.hpp): the proxy sees the CONNECT line and its own
//    credentials, nothing else; TLS is verified against the URL's host. Plain
//    http:// never goes through a proxy. Opening the tunnel has the same deadline
//    per step as everything else.
//  - Error messages carry URLs without their query string and never a header value
//    the caller sent (Authorization in particular).
//  - A request is retried at most once, and only when a reused keep-alive
//    connection turns out to be dead before any response byte arrived. Every other
//    retry is the caller's decision.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/proxy.hpp"
#include "http/transport.hpp"

namespace mdesync::http {

struct ClientOptions {
  static constexpr std::size_t default_max_body = 512u << 20;

  std::string ca_file;                          // extra trust anchors (PEM), added to the system store
  std::chrono::milliseconds timeout{300000};    // per operation: resolve, connect, handshake, each write, each read
  bool accept_gzip = true;                      // send Accept-Encoding: gzip unless the request has its own
  std::size_t max_body = default_max_body;      // send(): larger bodies (after inflating) are an error
  std::string user_agent = "mdesync/0.1";
  // The proxy https:// requests go through (unless its NO_PROXY rules say
  // otherwise); none: every connection is direct.
  std::optional<Proxy> proxy;
  // Plain http:// to 169.254.169.254, the Azure Instance Metadata Service, which
  // serves managed identity tokens over http only. The address is link-local:
  // it never leaves the VM's host, and no proxy is used for it. Set only for the
  // client that asks it for tokens.
  bool allow_instance_metadata = false;
};

// Not thread-safe: use one Client per thread. Each Client owns its own
// io_context and keeps one connection per origin open between requests.
class Client final : public Transport {
 public:
  // Throws mdesync::Error(config) when ca_file cannot be loaded.
  explicit Client(ClientOptions options = {});
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Response send(const Request& request) override;
  Response stream(const Request& request, const std::function<void(std::string_view)>& on_body,
                 const std::function<void(const Response&)>& on_head) override;
  Response stream(const Request& request, const std::function<void(std::string_view)>& on_body) {
    return stream(request, on_body, {});
  }

  // Drops every kept-alive connection.
  void close();
  // Thread-safe: makes the request running now (if any) fail at once with
  // Error(transient, "interrupted: <why>"), its connection closed. Later requests
  // work as usual. For a pull given up as stalled (StallWatch).
  void interrupt(const std::string& why) override;
  // Connections opened since construction (for logs, metrics and tests).
  std::size_t connections_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdesync::http
