#pragma once
// The daemon's decisions without its I/O: which jobs (tenant and data set)
// exist, when each runs next and in which mode, what a finished run means for
// the next one, and how long a failed start waits. Single-threaded (the daemon's
// event loop calls it); time and randomness are injected, so tests drive it with
// a FakeClock and a fixed seed. daemon/run.cpp keeps the timers, signals,
// sd_notify and the worker pool.
//
// Rules (beyond planner.hpp's due times):
//  - never two runs of one job at once: begin() refuses a running job;
//  - a job whose tenant left the config is retired: it never starts again, and
//    leaves the table when its running pull ends;
//  - after a failure the next try waits retry_delay (30 s doubling up to the
//    incremental interval) with ±20% jitter, so tenants that failed together do
//    not retry together; after a fatal one (credentials, permissions) a whole
//    interval at least;
//  - a job held by another instance is tried again within lock_retry (jittered);
//  - a pull given up as stalled (or whose database was silent) marks the job
//    stalled until one of its pulls succeeds.
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/classify.hpp"
#include "core/clock.hpp"
#include "model/dataset.hpp"
#include "model/run.hpp"
#include "schedule/planner.hpp"

namespace mdesync::schedule {

struct JobId {
  std::string tenant;
  model::Dataset dataset = model::Dataset::cpe;
  std::string key() const { return tenant + "/" + std::string(model::spec(dataset).name); }
  auto operator<=>(const JobId&) const = default;
};

// What the daemon learned from one run of a job.
struct RunReport {
  enum class Result { succeeded, guarded, failed, skipped };
  Result result = Result::failed;
  Recovery recovery = Recovery::retry;
  // sync_state read after the run; nullopt when it could not be (database gone).
  std::optional<model::SyncState> state;
  // Set when the run was given up as stalled or the database did not answer: why.
  std::optional<std::string> stalled;
};

struct JobState {
  Plan plan{};
  bool running = false;
  bool retired = false;
  int failures = 0;
  std::optional<SystemTime> last_success;
  std::string last_outcome = "not run yet";
  std::optional<std::string> stalled;
};

class Scheduler {
 public:
  // How long a standby instance waits (at most) before trying a job another
  // instance holds: how soon it takes over when the active one dies.
  static constexpr std::chrono::milliseconds lock_retry{60'000};
  static constexpr std::chrono::milliseconds max_bootstrap_retry{60'000};

  Scheduler(const Clock& clock, Intervals intervals, std::uint32_t seed);

  void set_intervals(Intervals intervals) { intervals_ = intervals; }
  const Intervals& intervals() const { return intervals_; }

  // Makes the table hold exactly `wanted` (a reload): new jobs are added,
  // jobs that left are retired. Returns the retired jobs that are idle, which
  // leave the table now (their timers are to be cancelled); running ones leave
  // when they finish.
  std::vector<JobId> reconcile(const std::vector<JobId>& wanted);

  // sync_state was read: when the idle job runs next. Also takes the last
  // success from the stored times.
  Plan schedule(const JobId& job, const model::SyncState& state);
  // The job's timer fired: true when it is to run now (it is marked running).
  bool begin(const JobId& job);
  // The job's run ended: its next plan, or nullopt when it left the config meanwhile.
  std::optional<Plan> finish(const JobId& job, const RunReport& report);

  // How long until the bootstrap (reading sync_state) tries again after its
  // n-th consecutive failure: 2 s doubling, at most max_bootstrap_retry, jittered.
  std::chrono::milliseconds bootstrap_retry(int failures);

  const JobState* state(const JobId& job) const;
  const std::map<JobId, JobState>& jobs() const { return jobs_; }

 private:
  // `base` shifted by up to ±20%.
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);

  const Clock& clock_;
  Intervals intervals_;
  std::mt19937 random_;
  std::map<JobId, JobState> jobs_;
};

}  // namespace mdesync::schedule
