#include "daemon/health.hpp"

#include "core/timestamp.hpp"
#include "metrics/names.hpp"

namespace mdesync {

void HealthBoard::job(const std::string& tenant, const std::string& dataset, std::optional<SystemTime> last_success,
                      std::chrono::milliseconds stale_after, std::optional<std::string> stalled) {
  std::lock_guard lock(mutex_);
  auto& e = jobs_[key(tenant, dataset)];
  e.last_success = last_success;
  e.stale_after = stale_after;
  e.stalled = std::move(stalled);
  registry_.set(metrics::names::stalled, {{"tenant", tenant}, {"dataset", dataset}}, e.stalled ? 1 : 0);
  update_up();
}

void HealthBoard::forget(const std::string& tenant, const std::string& dataset) {
  std::lock_guard lock(mutex_);
  jobs_.erase(key(tenant, dataset));
  update_up();
}

void HealthBoard::watching(const std::string& tenant, const std::string& dataset, std::shared_ptr<StallWatch> watch) {
  std::lock_guard lock(mutex_);
  jobs_[key(tenant, dataset)].watch = std::move(watch);
}

void HealthBoard::database(const std::string& problem, bool silent) {
  std::lock_guard lock(mutex_);
  database_problem_ = problem;
  database_silent_ = silent;
  update_up();
}

void HealthBoard::update_up() {
  bool up = database_problem_.empty();
  for (const auto& [k, e] : jobs_) up = up && !e.stalled;
  registry_.set(metrics::names::up, {}, up ? 1 : 0);
}

Health HealthBoard::report(SystemTime now) const {
  std::lock_guard lock(mutex_);
  std::string reasons;
  const auto add = [&reasons](const std::string& why) {
    if (!reasons.empty()) reasons += "; ";
    reasons += why;
  };
  if (!database_problem_.empty()) add("database: " + database_problem_);
  for (const auto& [k, e] : jobs_) {
    if (e.watch && e.watch->stalled()) {
      add(k + ": stalled: " + e.watch->stall_message());
    } else if (e.stalled) {
      add(k + ": " + *e.stalled);
    } else if (!e.last_success) {
      add(k + ": no successful sync yet");
    } else if (now - *e.last_success > e.stale_after) {
      add(k + ": last successful sync at " + format_iso8601_utc(*e.last_success));
    }
  }
  if (jobs_.empty()) reasons = "no tenant configured";
  return {reasons.empty(), reasons};
}

bool HealthBoard::making_progress(SteadyTime now, std::chrono::steady_clock::duration release_grace) const {
  std::lock_guard lock(mutex_);
  if (database_silent_) return false;
  for (const auto& [k, e] : jobs_) {
    if (e.stalled) return false;
    if (e.watch && e.watch->stalled() && now - e.watch->stalled_since() > release_grace) return false;
  }
  return true;
}

}  // namespace mdesync
