#pragma once
// The network side: Beast over Asio, optionally TLS. Kept behind this Beast-free header
// so only server.cpp pays for compiling Beast.
#include <cstdint>
#include <memory>
#include <string>

#include "service.hpp"

namespace mdesync::fakeapi {

struct ServerOptions {
  std::string listen_host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = any free port
  unsigned threads = 4;
  bool tls = false;
  std::string certificate_pem;  // with tls: the server chain
  std::string private_key_pem;
};

class Server {
 public:
  // Binds and listens; throws on failure.
  Server(Service& service, const ServerOptions& options);
  ~Server();
  std::uint16_t port() const;
  std::string bound_address() const;
  // Serves until SIGINT/SIGTERM or stop().
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

bool is_loopback_host(const std::string& host);

}  // namespace mdesync::fakeapi
