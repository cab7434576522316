#include "api/defender_client.hpp"

#include <cctype>
#include <random>

#include "core/classify.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "core/url.hpp"
#include "parse/page.hpp"
#include "ratelimit/backoff.hpp"
#include "ratelimit/retry_after.hpp"

namespace mdesync::api {
namespace {

// An error body is the server's text: a server or proxy that echoes the request
// would hand our bearer token to every log line and to sync_runs.error.
std::string redact_bearer(std::string text, const std::string& token) {
  static constexpr std::string_view redacted = "<redacted>";
  text = log::redact(std::move(text), {token});
  for (std::size_t at = 0; (at = text.find("Bearer ", at)) != std::string::npos;) {
    at += 7;
    std::size_t end = at;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '"') ++end;
    text.replace(at, end - at, redacted);
    at += redacted.size();
  }
  return text;
}

std::string describe_api_error(const http::Response& r, const std::string& token) {
  std::string text = "HTTP " + std::to_string(r.status);
  if (auto e = parse::parse_api_error(r.body)) {
    text += ": " + e->code;
    if (!e->message.empty()) text += ": " + e->message;
    if (!e->target.empty()) text += " (target " + e->target + ")";
  }
  return redact_bearer(std::move(text), token);
}

bool is_retryable_status(int status) { return classify_http_status(status) == Recovery::retry; }

// Carries a sink's own exception through the transport and past the retry loop,
// which would otherwise take a transient one for a network failure.
struct SinkFailed {};

}  // namespace

DefenderClient::DefenderClient(const config::TenantOptions& tenant, http::Transport& transport,
                               auth::TokenSource& tokens, ratelimit::QuotaLimiter& quota, const Clock& clock,
                               RetryPolicy retry)
    : tenant_(tenant),
      transport_(transport),
      tokens_(tokens),
      quota_(quota),
      clock_(clock),
      retry_(retry),
      api_origin_(Url::parse(tenant.api_url).origin()) {}

std::string DefenderClient::first_page_url(model::Dataset ds, int page_size, std::optional<SystemTime> since_time,
                                           std::optional<int> top) const {
  std::string url = tenant_.api_url + std::string(model::spec(ds).json_path);
  if (top) return url + "?$top=" + std::to_string(*top);
  url += "?pageSize=" + std::to_string(page_size);
  if (since_time) url += "&sinceTime=" + percent_encode(format_iso8601_utc(*since_time));
  return url;
}

std::string DefenderClient::export_url(model::Dataset ds, int sas_valid_hours) const {
  return tenant_.api_url + std::string(model::spec(ds).export_path) + "?sasValidHours=" +
         std::to_string(sas_valid_hours);
}

void DefenderClient::check_origin(const Url& url) const {
  const auto origin = url.origin();
  if (origin != api_origin_) {
    throw Error(ErrorKind::config, "tenant " + tenant_.name + ": refusing to follow a link to " + origin +
                                       ", which is not the API host " + api_origin_ +
                                       " (the bearer token is only ever sent to the API host)");
  }
}

http::Response DefenderClient::get(const std::string& url, ratelimit::Family family) {
  return exchange(url, family, nullptr);
}

http::Response DefenderClient::get_streamed(const std::string& url, ratelimit::Family family, const BodySink& sink) {
  return exchange(url, family, &sink);
}

http::Response DefenderClient::exchange(const std::string& url, ratelimit::Family family, const BodySink* sink) {
  std::exception_ptr sink_error;
  const auto guarded = [&](auto&& call) {
    try {
      call();
    } catch (...) {
      sink_error = std::current_exception();
      throw SinkFailed{};
    }
  };
  const std::function<void(std::string_view)> on_body = [&](std::string_view bytes) {
    guarded([&] { sink->on_body(bytes); });
  };
  const std::function<void(const http::Response&)> on_head = [&](const http::Response& head) {
    guarded([&] { sink->on_start(head); });
  };
  const Url parsed = Url::parse(url);
  check_origin(parsed);
  const std::string where = log::redact_url(url);
  const std::string endpoint = parsed.target.substr(0, parsed.target.find('?'));
  ratelimit::Backoff backoff(retry_.backoff_base, retry_.backoff_cap, std::random_device{}());
  int attempts = 0;
  int throttled = 0;
  bool refreshed = false;
  // A pull given up as stalled retries nothing more.
  const auto throw_if_stalled = [this] {
    if (watch_ != nullptr && watch_->stalled())
      throw Error(ErrorKind::transient, "stalled: " + watch_->stall_message());
  };
  for (;;) {
    throw_if_stalled();
    for (auto wait = quota_.reserve(family); wait.count() > 0; wait = quota_.reserve(family)) {
      // Waiting for the quota is waiting on purpose, not a stall.
      if (watch_ != nullptr) watch_->waiting(wait);
      clock_.sleep_for(wait);
    }

    http::Response response;
    std::string token;
    try {
      token = tokens_.token();
      http::Request request;
      request.url = url;
      request.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
      ++stats_.requests;
      response = sink ? transport_.stream(request, on_body, on_head) : transport_.send(request);
    } catch (const SinkFailed&) {
      std::rethrow_exception(sink_error);
    } catch (const Error& e) {
      ++stats_.by_status[{endpoint, 0}];
      throw_if_stalled();
      if (e.kind() != ErrorKind::transient) throw;
      if (++attempts >= retry_.max_attempts)
        throw Error(ErrorKind::transient, "GET " + where + " failed after " + std::to_string(attempts) +
                                              " attempts: " + e.what());
      const auto wait = backoff.next();
      ++stats_.retries;
      log::warn("api retry", {{"tenant", tenant_.name}, {"url", where}, {"attempt", attempts},
                              {"wait_ms", wait.count()}, {"error", e.what()}});
      clock_.sleep_for(wait);
      continue;
    }

    const int status = response.status;
    ++stats_.by_status[{endpoint, status}];
    if (watch_ != nullptr) watch_->advanced();  // the API answered
    if (status >= 200 && status < 300) return response;
    if (status == 401) {
      if (refreshed)
        throw Error(ErrorKind::auth, "tenant " + tenant_.name + ": the API rejected a freshly issued token for " +
                                         where + " (" + describe_api_error(response, token) + ")");
      // Tokens can expire or be revoked mid-paging: fetch a new one and repeat this page once.
      refreshed = true;
      ++stats_.token_refreshes;
      tokens_.invalidate();
      log::info("token refresh", {{"tenant", tenant_.name}, {"url", where}});
      continue;
    }
    if (status == 403) {
      throw Error(ErrorKind::auth, "tenant " + tenant_.name + ": access denied to " + where + " (" +
                                       describe_api_error(response, token) +
                                       "); grant the app the Software.Read.All application permission of "
                                       "WindowsDefenderATP and give admin consent");
    }
    if (status == 429) {
      ++stats_.throttled;
      if (++throttled > retry_.max_throttled)
        throw Error(ErrorKind::throttled, "GET " + where + ": still throttled after " + std::to_string(throttled) +
                                              " answers of 429");
      auto wait = ratelimit::parse_retry_after(response.header("Retry-After").value_or(""), clock_.now_utc())
                      .value_or(backoff.next());
      quota_.pause_until(family, clock_.now_steady() + wait);
      if (watch_ != nullptr) watch_->waiting(wait);
      log::warn("api throttled", {{"tenant", tenant_.name}, {"url", where}, {"retry_after_ms", wait.count()}});
      continue;
    }
    if (is_retryable_status(status)) {
      if (++attempts >= retry_.max_attempts)
        throw Error(ErrorKind::transient, "GET " + where + " failed after " + std::to_string(attempts) +
                                              " attempts: " + describe_api_error(response, token));
      auto wait = backoff.next();
      if (auto ra = ratelimit::parse_retry_after(response.header("Retry-After").value_or(""), clock_.now_utc()))
        wait = std::max(wait, *ra);
      ++stats_.retries;
      log::warn("api retry", {{"tenant", tenant_.name}, {"url", where}, {"status", status}, {"attempt", attempts},
                              {"wait_ms", wait.count()}, {"error", describe_api_error(response, token)}});
      clock_.sleep_for(wait);
      continue;
    }
    throw Error(ErrorKind::fatal, "GET " + where + " failed: " + describe_api_error(response, token));
  }
}

}  // namespace mdesync::api
