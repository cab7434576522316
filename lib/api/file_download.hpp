#pragma once
// Downloads one export file from Azure Storage, streaming, with resume.
//
// Invariants:
//  - No Authorization header: the SAS URL is the credential, and the bearer
//    token never goes to a storage host.
//  - After a reset or a short body the download resumes with Range at the byte
//    it reached; a server that ignores Range answers 200 and the sink is told to
//    start over. An empty 200 is a failed transfer, not an empty file: it is
//    fetched again, then new URLs are asked for, as after a 403.
//  - A 403 (expired or refused signature) asks the caller for fresh URLs.
//  - URLs appear in messages without their query string.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "api/defender_client.hpp"
#include "core/clock.hpp"
#include "http/transport.hpp"

namespace mdesync::api {

struct DownloadTarget {
  std::function<std::string()> url;  // the file's current SAS URL
  std::function<void()> refresh;     // after a 403: obtain fresh URLs, or throw
  // Throws when the download must stop (shutting down, the pull stalled); called
  // before every attempt and every wait. May be empty.
  std::function<void()> check;
};

struct DownloadSink {
  std::function<void(std::string_view)> bytes;  // compressed bytes, in order
  std::function<void()> restart;                 // forget every byte so far: the file starts again
};

struct DownloadStats {
  std::uint64_t bytes = 0;
  int resumes = 0;
  int restarts = 0;
  int url_refreshes = 0;
};

DownloadStats download_file(http::Transport& transport, const DownloadTarget& target, const DownloadSink& sink,
                            const Clock& clock, const RetryPolicy& retry = {});

}  // namespace mdesync::api
