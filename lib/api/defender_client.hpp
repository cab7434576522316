#pragma once
// Typed calls to the Defender for Endpoint API for one tenant: quota-checked,
// authenticated, retried. The only place that decides what a status code means.
//
// Invariants:
//  - A call is sent only when the tenant's quota window has room (QuotaLimiter).
//  - The bearer token goes only to api_url's origin: a nextLink elsewhere fails
//    the run before anything is sent.
//  - 429 waits for Retry-After; 5xx, resets and timeouts back off with jitter and
//    retry the same URL; 401 refreshes the token once.
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "auth/token_source.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/stall_watch.hpp"
#include "http/transport.hpp"
#include "core/url.hpp"
#include "model/dataset.hpp"
#include "ratelimit/quota_limiter.hpp"

namespace mdesync::api {

struct RetryPolicy {
  static constexpr int default_attempts = 8;
  int max_attempts = default_attempts;           // per call, for transient failures
  int max_throttled = 30;                        // 429s tolerated per call
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{60'000};
};

// Where get_streamed delivers a 2xx body while it arrives.
struct BodySink {
  // Each 2xx answer's status and headers, before its first body byte: a retried
  // call delivers the body again from the start, so the consumer starts over here.
  std::function<void(const http::Response&)> on_start;
  std::function<void(std::string_view)> on_body;
};

struct CallStats {
  std::uint64_t requests = 0;
  std::uint64_t throttled = 0;
  std::uint64_t retries = 0;
  std::uint64_t token_refreshes = 0;
  // Answers by endpoint path (no query) and HTTP status; 0 is "no answer" (network error).
  std::map<std::pair<std::string, int>, std::uint64_t> by_status;
};

class DefenderClient {
 public:
  DefenderClient(const config::TenantOptions& tenant, http::Transport& transport, auth::TokenSource& tokens,
                 ratelimit::QuotaLimiter& quota, const Clock& clock, RetryPolicy retry = {});

  // The first page of a data set's JSON endpoint.
  std::string first_page_url(model::Dataset ds, int page_size, std::optional<SystemTime> since_time,
                             std::optional<int> top = std::nullopt) const;
  // The export request URL of a data set.
  std::string export_url(model::Dataset ds, int sas_valid_hours) const;

  // GETs a JSON page or export answer (2xx), following every rule above. Throws
  // mdesync::Error: auth (token or permission), config (nextLink to a foreign
  // host), transient (retries exhausted), fatal (other 4xx).
  http::Response get(const std::string& url, ratelimit::Family family);
  // As get(), but the 2xx body goes to `sink` as it arrives, so memory does not
  // grow with the body, and the returned Response has none. A failure half way
  // (reset, timeout, truncation) is retried like any other and starts the sink
  // over. An exception thrown by the sink ends the call and propagates unchanged.
  http::Response get_streamed(const std::string& url, ratelimit::Family family, const BodySink& sink);

  const CallStats& stats() const { return stats_; }
  http::Transport& transport() { return transport_; }
  // Answers count as progress of `watch`, quota and Retry-After waits as waiting
  // on purpose (see StallWatch). nullptr: none.
  void set_stall_watch(StallWatch* watch) { watch_ = watch; }
  const std::string& tenant_name() const { return tenant_.name; }

 private:
  void check_origin(const Url& url) const;
  http::Response exchange(const std::string& url, ratelimit::Family family, const BodySink* sink);

  const config::TenantOptions& tenant_;
  http::Transport& transport_;
  auth::TokenSource& tokens_;
  ratelimit::QuotaLimiter& quota_;
  const Clock& clock_;
  RetryPolicy retry_;
  std::string api_origin_;
  CallStats stats_;
  StallWatch* watch_ = nullptr;
};

}  // namespace mdesync::api
