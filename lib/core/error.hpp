#pragma once
// Error kinds shared by every area. One place (core/classify.hpp) decides whether
// a failure is retried, needs a new connection, or ends the run.
#include <stdexcept>
#include <string>

namespace mdesync {

enum class ErrorKind {
  transient,   // retry the same request after backoff (5xx, reset, timeout)
  throttled,   // retry after the server's Retry-After
  auth,        // credentials rejected or token expired: refresh once, then fatal
  config,      // the user must fix something
  data,        // a record or page is bad; counted and skipped
  fatal,       // anything else: the run fails
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

const char* to_string(ErrorKind kind) noexcept;

}  // namespace mdesync
