#include "core/classify.hpp"

namespace mdesync {

const char* to_string(Recovery r) noexcept {
  switch (r) {
    case Recovery::retry: return "retry";
    case Recovery::reconnect: return "reconnect";
    case Recovery::fatal: return "fatal";
  }
  return "fatal";
}

Recovery classify_http_status(int status) noexcept {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504: return Recovery::retry;
    default: return Recovery::fatal;
  }
}

Recovery classify_sqlstate(std::string_view s) noexcept {
  if (s.size() != 5) return Recovery::fatal;
  const std::string_view cls = s.substr(0, 2);
  if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03" || s == "57P05") return Recovery::reconnect;
  if (cls == "40" || cls == "53" || s == "55P03" || s == "57014") return Recovery::retry;
  return Recovery::fatal;
}

Recovery classify(const Error& e) noexcept {
  switch (e.kind()) {
    case ErrorKind::transient:
    case ErrorKind::throttled:
    case ErrorKind::data: return Recovery::retry;
    case ErrorKind::auth:
    case ErrorKind::config:
    case ErrorKind::fatal: return Recovery::fatal;
  }
  return Recovery::fatal;
}

}  // namespace mdesync
