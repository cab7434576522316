#pragma once
// A Transport that records every request and answers from a queue, so the
// token source is tested without a network.
#include <deque>
#include <stdexcept>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "http/transport.hpp"

namespace mdesync::testing {

class RecordingTransport final : public http::Transport {
 public:
  void answer(int status, std::string body, http::Headers headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    queue_.emplace_back(std::move(r));
  }
  void fail_with(Error error) { queue_.emplace_back(std::move(error)); }

  http::Response send(const http::Request& request) override {
    requests.push_back(request);
    if (queue_.empty()) throw std::logic_error("RecordingTransport: no answer queued");
    auto next = std::move(queue_.front());
    queue_.pop_front();
    if (auto* e = std::get_if<Error>(&next)) throw *e;
    return std::get<http::Response>(std::move(next));
  }
  http::Response stream(const http::Request& request,
                        const std::function<void(std::string_view)>& on_body,
                        const std::function<void(const http::Response&)>& on_head) override {
    auto r = send(request);
    if (r.status < 200 || r.status >= 300) return r;
    if (on_head) on_head(r);
    on_body(r.body);
    r.body.clear();
    return r;
  }

  std::vector<http::Request> requests;

 private:
  std::deque<std::variant<http::Response, Error>> queue_;
};

}  // namespace mdesync::testing
