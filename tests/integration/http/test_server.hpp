#pragma once
// A small HTTP/1.1 server on 127.0.0.1 for the client's integration tests:
// plain or TLS, one thread, counts the connections it accepts. Each path is a
// behaviour the client must cope with (see test_server.cpp).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/error.hpp"

#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {

class TestServer {
 public:
  // Plain HTTP.
  TestServer();
  // TLS with this certificate and key.
  explicit TestServer(const TestCertificate& certificate);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  unsigned short port() const;
  // "http(s)://<host>:<port><path>"
  std::string url(const std::string& path, const std::string& host = "127.0.0.1") const;

  int connections_accepted() const { return accepted_.load(); }
  int requests_served() const { return requests_.load(); }
  // The SNI name the last TLS client sent ("" when none).
  std::string last_server_name() const;

  // The expected bodies of /gzip and /chunked.
  static std::string gzip_plain_text();
  static std::string chunked_body();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
};

// The Error `fn` throws; a test failure when it throws none.
inline Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no error";
  return Error(ErrorKind::fatal, "");
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace mdesync::testing
