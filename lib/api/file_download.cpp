#include "api/file_download.hpp"

#include <random>

#include "core/classify.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "ratelimit/backoff.hpp"
#include "ratelimit/retry_after.hpp"

namespace mdesync::api {
namespace {

constexpr int max_url_refreshes = 3;
// Downloads of one URL that answer an empty body before new URLs are asked for.
constexpr int empty_body_attempts = 2;

}  // namespace

DownloadStats download_file(http::Transport& transport, const DownloadTarget& target, const DownloadSink& sink,
                            const Clock& clock, const RetryPolicy& retry) {
  DownloadStats stats;
  ratelimit::Backoff backoff(retry.backoff_base, retry.backoff_cap, std::random_device{}());
  int failures = 0;
  int empty_bodies = 0;
  for (;;) {
    if (target.check) target.check();
    const std::string url = target.url();
    const std::string where = log::redact_url(url);
    http::Request request;
    request.url = url;
    // The file is gzip already; asking for identity keeps Range offsets in file bytes.
    request.headers = {{"Accept-Encoding", "identity"}};
    if (stats.bytes > 0) request.headers.emplace_back("Range", "bytes=" + std::to_string(stats.bytes) + "-");

    http::Response response;
    try {
      response = transport.stream(
          request,
          [&](std::string_view bytes) {
            stats.bytes += bytes.size();
            sink.bytes(bytes);
          },
          [&](const http::Response& head) {
            if (stats.bytes > 0 && head.status != 206) {
              // Range ignored: the body starts at byte 0 again.
              ++stats.restarts;
              stats.bytes = 0;
              sink.restart();
            }
          });
    } catch (const Error& e) {
      if (target.check) target.check();
      if (e.kind() != ErrorKind::transient) throw;
      if (++failures >= retry.max_attempts)
        throw Error(ErrorKind::transient, "download of " + where + " failed after " + std::to_string(failures) +
                                              " attempts: " + e.what());
      if (stats.bytes > 0) ++stats.resumes;
      const auto wait = backoff.next();
      log::warn("download retry", {{"file", where}, {"at_byte", stats.bytes}, {"attempt", failures},
                                   {"wait_ms", wait.count()}, {"error", e.what()}});
      clock.sleep_for(wait);
      continue;
    }

    const int status = response.status;
    if ((status == 200 || status == 206) && stats.bytes == 0) {
      // Not even a gzip header: a failed transfer, not an empty file (a file of
      // zero lines is still a gzip stream). Fetch it again, then ask for a new
      // export, as for a refused URL.
      if (++empty_bodies < empty_body_attempts) {
        const auto wait = backoff.next();
        log::warn("download retry", {{"file", where}, {"attempt", empty_bodies}, {"wait_ms", wait.count()},
                                     {"error", "HTTP " + std::to_string(status) + " with an empty body"}});
        clock.sleep_for(wait);
        continue;
      }
      if (++stats.url_refreshes > max_url_refreshes)
        throw Error(ErrorKind::data, "download of " + where + ": storage answered " + std::to_string(status) +
                                         " with an empty body " + std::to_string(empty_body_attempts) +
                                         " times in a row even after new export requests; an export file is never "
                                         "empty (a file of zero lines is still a gzip stream)");
      log::info("download url refreshed", {{"file", where}, {"status", status}, {"reason", "empty body"}});
      empty_bodies = 0;
      target.refresh();
      continue;
    }
    if (status == 200 || status == 206) return stats;
    if (status == 403) {
      if (++stats.url_refreshes > max_url_refreshes)
        throw Error(ErrorKind::auth, "download of " + where + ": storage refused the signed URL " +
                                         std::to_string(max_url_refreshes) + " times even after new export requests");
      log::info("download url refused", {{"file", where}, {"status", status}, {"reason", "signature expired or refused"}});
      target.refresh();
      continue;
    }
    if (status == 416 && stats.bytes > 0) {
      // Everything was received before the connection failed; the gzip trailer check decides.
      return stats;
    }
    if (classify_http_status(status) == Recovery::retry) {
      if (++failures >= retry.max_attempts)
        throw Error(ErrorKind::transient, "download of " + where + " failed after " + std::to_string(failures) +
                                              " attempts: HTTP " + std::to_string(status));
      auto wait = backoff.next();
      if (auto ra = ratelimit::parse_retry_after(response.header("Retry-After").value_or(""), clock.now_utc()))
        wait = std::max(wait, *ra);
      clock.sleep_for(wait);
      continue;
    }
    throw Error(ErrorKind::fatal, "download of " + where + " failed: HTTP " + std::to_string(status));
  }
}

}  // namespace mdesync::api
