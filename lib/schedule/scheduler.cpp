#include "schedule/scheduler.hpp"

#include <algorithm>
#include <set>

#include "core/timestamp.hpp"

namespace mdesync::schedule {

using std::chrono::milliseconds;

Scheduler::Scheduler(const Clock& clock, Intervals intervals, std::uint32_t seed)
    : clock_(clock), intervals_(intervals), random_(seed) {}

std::vector<JobId> Scheduler::reconcile(const std::vector<JobId>& wanted) {
  const std::set<JobId> keep(wanted.begin(), wanted.end());
  for (const auto& id : keep) jobs_[id].retired = false;  // added, or back before it left
  std::vector<JobId> gone;
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    if (keep.count(it->first) != 0) {
      ++it;
      continue;
    }
    it->second.retired = true;
    if (it->second.running) {
      ++it;  // leaves when its run ends
    } else {
      gone.push_back(it->first);
      it = jobs_.erase(it);
    }
  }
  return gone;
}

Plan Scheduler::schedule(const JobId& id, const model::SyncState& state) {
  auto& job = jobs_[id];
  if (state.last_full_at || state.last_incremental_at)
    job.last_success =
        std::max(state.last_full_at.value_or(SystemTime{}), state.last_incremental_at.value_or(SystemTime{}));
  job.plan = next_run(state, intervals_, clock_.now_utc(), jitter_for(id.tenant, id.dataset, intervals_));
  return job.plan;
}

bool Scheduler::begin(const JobId& id) {
  const auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.running || it->second.retired) return false;
  it->second.running = true;
  return true;
}

std::optional<Plan> Scheduler::finish(const JobId& id, const RunReport& report) {
  const auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  auto& job = it->second;
  job.running = false;
  const auto now = clock_.now_utc();
  using Result = RunReport::Result;
  const bool success = report.result == Result::succeeded || report.result == Result::guarded;
  if (report.stalled)
    job.stalled = report.stalled;
  else if (success)
    job.stalled.reset();
  if (report.result == Result::skipped) {
    job.last_outcome = "held by another instance";
  } else {
    job.last_outcome = std::string(report.result == Result::succeeded ? "succeeded"
                                   : report.result == Result::guarded ? "guarded"
                                                                      : "failed") +
                       " " + format_iso8601_utc(now);
    if (success) job.last_success = now;
  }
  if (job.retired) {
    jobs_.erase(it);
    return std::nullopt;
  }
  if (report.result == Result::skipped) {
    job.plan = {now + jittered(std::min(lock_retry, intervals_.incremental / 2)), job.plan.mode};
  } else if (!success || !report.state) {
    job.failures = std::min(job.failures + 1, 30);
    // Retrying soon helps a busy service or a restarting database, not a
    // rejected secret or a missing permission: those wait a whole interval.
    auto delay = retry_delay(job.failures, intervals_);
    if (report.recovery == Recovery::fatal) delay = std::max(delay, intervals_.incremental);
    job.plan = {now + jittered(delay), job.plan.mode};
  } else {
    job.failures = 0;
    job.plan = next_run(*report.state, intervals_, now, jitter_for(id.tenant, id.dataset, intervals_));
  }
  return job.plan;
}

milliseconds Scheduler::bootstrap_retry(int failures) {
  const int doublings = std::clamp(failures, 1, 10);
  return jittered(std::min<milliseconds>(std::chrono::seconds(1) * (1 << doublings), max_bootstrap_retry));
}

const JobState* Scheduler::state(const JobId& id) const {
  const auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

milliseconds Scheduler::jittered(milliseconds base) {
  std::uniform_real_distribution<double> factor(0.8, 1.2);
  return milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * factor(random_)));
}

}  // namespace mdesync::schedule
