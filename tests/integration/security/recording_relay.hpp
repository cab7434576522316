#pragma once
// A recording HTTP relay in front of mde-fakeapi. Each relay listens on its own
// loopback address and port, so one simulator can play three distinct hosts (the
// token endpoint, the API, Blob Storage), and each relay keeps what it received:
// that is how the tests see which host got which credential.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace mdesync::testing {

struct Exchange {
  std::string host;           // the Host header as the client sent it
  std::string method;
  std::string target;         // path and query
  std::string authorization;  // the Authorization header, "" when absent
  std::string request_body;
  int status = 0;             // what the client got; 0 when the connection was dropped
  std::string response_body;  // JSON answers only (tokens, pages, export file lists)
};

class RecordingRelay {
 public:
  // Listens on listen_ip at a free port; forwards to 127.0.0.1:upstream_port once set.
  explicit RecordingRelay(const std::string& listen_ip);
  ~RecordingRelay();
  RecordingRelay(const RecordingRelay&) = delete;
  RecordingRelay& operator=(const RecordingRelay&) = delete;

  int port() const;
  // "http://<name>:<port>", name defaulting to the listen address.
  std::string url(const std::string& name = "") const;

  void set_upstream_port(int port);
  // Forwards with this Host header instead of the client's: the simulator builds
  // SAS URLs on the Host it was asked by, so this points them at another relay.
  void set_forwarded_host(const std::string& authority);
  // Answers every request itself with this status and a JSON error that echoes
  // the request back (its Authorization header and body), the way a careless
  // proxy or a hostile endpoint would; 0 forwards again.
  void set_echo_failure(int status);

  // Answers every request with 307 to this origin plus the request's target; "" forwards again.
  void set_redirect(const std::string& origin);

  std::vector<Exchange> exchanges() const;
  void clear();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mdesync::testing
