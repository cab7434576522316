#pragma once
// The one place that decides what a failure means, for every caller: the API,
// storage and token endpoints (HTTP statuses), PostgreSQL (SQLSTATEs; the store
// maps its exceptions here), and mdesync's own Error kinds. Callers retry, make a
// new connection, or give up as it says; the daemon picks its delay from it.
#include <string_view>

#include "core/error.hpp"

namespace mdesync {

enum class Recovery {
  retry,      // the same request again after a backoff (or the server's Retry-After)
  reconnect,  // the connection is gone or unusable: a new one, then retry
  fatal,      // retrying cannot help: someone must fix something (credentials,
              // permissions, config, a bug); the daemon waits a whole interval
};

const char* to_string(Recovery r) noexcept;

// 408, 429, 500, 502, 503 and 504: retry (the service is busy, restarting or
// behind a proxy that gave up). Everything else, 501 and 505 included (the
// server will never do it), is fatal for the request; 2xx is not a failure and
// 401/403 are handled by the callers (a token refresh, new SAS URLs) before.
Recovery classify_http_status(int status) noexcept;

// PostgreSQL error codes:
//  - class 08 (connection exception), 57P01..57P03 (the server shuts down or
//    restarts), 57P05 (idle session timeout): reconnect;
//  - class 40 (serialization failure, deadlock), 55P03 (lock not available),
//    57014 (canceled, e.g. by our own deadline or statement_timeout), class 53
//    (out of disk, memory, connections): retry;
//  - anything else (a constraint, a missing table, a syntax error): fatal.
Recovery classify_sqlstate(std::string_view sqlstate) noexcept;

// mdesync's own errors: transient and throttled retry; data retries (a page or
// file that arrived broken may arrive whole next time); auth, config and fatal
// are fatal.
Recovery classify(const Error& e) noexcept;

}  // namespace mdesync
