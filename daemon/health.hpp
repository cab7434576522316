#pragma once
// What /healthz, mdesync_up, mdesync_stalled and the systemd watchdog say.
// Written from the event loop, read from the metrics thread and the watchdog
// timer: thread-safe.
//
// Unhealthy (503, mdesync_up 0) while any of:
//  - a job's pull is stalled now, or its last pull was given up as stalled (or
//    its database was silent) and none has succeeded since;
//  - the database cannot be used (refused or silent);
//  - a job has no successful sync yet, or none within its stale time.
// The watchdog is fed only while the scheduler makes progress: no job stalled,
// the database not silent, and no pull still running past its stall by more
// than the release grace (its connections were broken loose; it should be gone).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/stall_watch.hpp"
#include "daemon/metrics_server.hpp"
#include "metrics/registry.hpp"

namespace mdesync {

class HealthBoard {
 public:
  explicit HealthBoard(metrics::Registry& registry) : registry_(registry) {}

  // A job's standing after it was scheduled or ran.
  void job(const std::string& tenant, const std::string& dataset, std::optional<SystemTime> last_success,
           std::chrono::milliseconds stale_after, std::optional<std::string> stalled);
  void forget(const std::string& tenant, const std::string& dataset);
  // The running pull's watch (nullptr once it ended).
  void watching(const std::string& tenant, const std::string& dataset, std::shared_ptr<StallWatch> watch);
  // Why the database cannot be used now ("" when it can); silent: it does not answer.
  void database(const std::string& problem, bool silent);

  Health report(SystemTime now) const;
  bool making_progress(SteadyTime now, std::chrono::steady_clock::duration release_grace) const;

 private:
  struct Entry {
    std::optional<SystemTime> last_success;
    std::chrono::milliseconds stale_after{0};
    std::optional<std::string> stalled;
    std::shared_ptr<StallWatch> watch;
  };
  static std::string key(const std::string& tenant, const std::string& dataset) { return tenant + "/" + dataset; }
  void update_up();  // with mutex_ held

  metrics::Registry& registry_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> jobs_;
  std::string database_problem_;
  bool database_silent_ = false;
};

}  // namespace mdesync
