#include "core/clock.hpp"

#include "core/error.hpp"

#include <thread>

namespace mdesync {

const RealClock& RealClock::instance() {
  static const RealClock clock;
  return clock;
}

void RealClock::sleep_for(std::chrono::milliseconds d) const { std::this_thread::sleep_for(d); }

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::transient: return "transient";
    case ErrorKind::throttled: return "throttled";
    case ErrorKind::auth: return "auth";
    case ErrorKind::config: return "config";
    case ErrorKind::data: return "data";
    case ErrorKind::fatal: return "fatal";
  }
  return "unknown";
}

}  // namespace mdesync
