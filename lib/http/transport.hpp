#pragma once
// What the token source and the API layer need from HTTP, and nothing more:
// one request in, one response out. The real implementation is http::Client;
// tests substitute a recording fake.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdesync::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;  // absolute; its query string never appears in errors or logs
  Headers headers;  // sent as given, after Host and User-Agent
  std::string body;
};

struct Response {
  int status = 0;
  Headers headers;   // as received (Date included), except Content-Encoding/Content-Length
                     // are dropped when the client inflated a gzip body
  std::string body;  // identity-encoded; empty for Transport::stream

  // First header with this name, compared case-insensitively.
  std::optional<std::string> header(std::string_view name) const;
};

class Transport {
 public:
  virtual ~Transport();
  // Any HTTP status is a Response, not an error: the caller classifies statuses.
  // Throws mdesync::Error for everything else (network, TLS, timeout, truncation).
  virtual Response send(const Request& request) = 0;
  // Like send, but for a 2xx answer: on_head (when set) sees the status and headers
  // first, then body bytes go to on_body as they arrive (bounded memory), and the
  // returned Response has an empty body. Any other status is returned as send()
  // returns it, body included, and neither callback runs: an error page never
  // reaches a download's parser. An exception thrown by a callback ends the
  // exchange (the connection is dropped) and propagates unchanged. When stream
  // throws after on_body has been called, the bytes delivered so far were part of
  // a failed response: the caller discards or resumes them (nothing is retried here).
  virtual Response stream(const Request& request, const std::function<void(std::string_view)>& on_body,
                          const std::function<void(const Response&)>& on_head) = 0;
  // Thread-safe: the request running now, if any, fails at once. Transports
  // that cannot block forever need not do anything.
  virtual void interrupt(const std::string& why) { (void)why; }
};

}  // namespace mdesync::http
