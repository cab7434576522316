// `mdesync run`: one Asio event loop schedules every tenant's data sets; pulls
// run on a small worker pool; signals are handled on the loop.
//
// Invariants:
//  - never two runs of one tenant and data set at once: here (Job::running) and
//    across instances (the advisory lock taken by run_pull; a standby retries);
//  - due times come from sync_state, so restarts neither re-sync nor forget;
//  - the database may be down at start or go away: runs fail, are retried with
//    backoff, and the daemon recovers by itself;
//  - SIGTERM/SIGINT stop scheduling, let running pulls stop at their next page or
//    file (snapshots apply atomically, so nothing half-applied is left), exit 0;
//  - SIGHUP reloads the config; a bad new config is logged and ignored;
//  - never stuck, never silent: every pull answers to a StallWatch
//    (sync.stall_timeout); a stalled pull, or a database that does not answer
//    within its deadlines, turns /healthz 503 and mdesync_up 0, and WATCHDOG=1
//    stops until syncing works again, so systemd restarts a wedged process.
#include "daemon/run.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <csignal>
#include <set>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>
#include <unistd.h>

#ifdef MDESYNC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "api/defender_client.hpp"
#include "core/log.hpp"
#include "api/client_options.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/tenant_session.hpp"
#include "metrics/names.hpp"
#include "metrics/registry.hpp"
#include "core/timestamp.hpp"
#include "daemon/commands.hpp"
#include "http/client.hpp"
#include "schedule/planner.hpp"
#include "schedule/pull.hpp"
#include "store/failure.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"

namespace mdesync::commands {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// Pulls running at once across all tenants: each holds a database connection
// and an HTTPS connection; the quota, not parallelism, bounds throughput.
constexpr int worker_threads = 4;
// How long a standby instance waits (at most) before trying a job another
// instance holds: how soon it takes over when the active one dies.
constexpr milliseconds lock_retry = std::chrono::seconds(60);
// After SIGTERM, running pulls get this long to reach a page or file boundary.
constexpr auto shutdown_grace = std::chrono::seconds(30);
constexpr milliseconds max_bootstrap_retry = std::chrono::seconds(60);
// /healthz turns 503 when a job's last success is older than this many incremental intervals (plus slack).
constexpr int stale_after_intervals = 2;
constexpr milliseconds stale_slack = std::chrono::minutes(10);

void notify(const std::string& state) {
#ifdef MDESYNC_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

struct Job {
  Job(asio::io_context& io, std::string t, model::Dataset d) : tenant(std::move(t)), dataset(d), timer(io) {}
  std::string key() const { return tenant + "/" + std::string(model::spec(dataset).name); }
  std::string tenant;
  model::Dataset dataset;
  asio::steady_timer timer;
  std::shared_ptr<TenantSession> shared;  // the tenant's token cache and quota, shared by its jobs
  bool running = false;
  bool retired = false;  // its tenant left the config
  int failures = 0;
  schedule::Plan plan{};
  std::optional<SystemTime> last_success;
  std::string last_outcome = "not run yet";
  // The running pull's stall watch (read by the watchdog), and when it stalled.
  std::shared_ptr<StallWatch> watch;
  // Set when the last pull was given up (stalled, or the database did not answer
  // in time): what /healthz says. Cleared by the next pull that succeeds.
  std::optional<std::string> stalled;
  // A pull given up could not write its end to sync_runs: written first thing by
  // the next run, once the database answers again.
  std::optional<schedule::PullOutcome> unrecorded;
};

struct RunResult {
  schedule::PullOutcome outcome;
  std::optional<store::SyncState> state;
  std::string error;  // a failure before the pull could start (database down, ...)
  // The database did not answer within a deadline (connect_timeout, a statement
  // deadline) before or after the pull: as stuck as a stalled pull.
  bool database_silent = false;
  bool recorded_earlier = false;  // the job's unrecorded outcome got written
};

// A new connection that timed out (libpq: "timeout expired") or a connection
// broken loose by a deadline: the database is silent, not merely refusing.
bool database_silent(const std::string& error) {
  return error.find("timeout expired") != std::string::npos ||
         error.find("did not answer within") != std::string::npos;
}

// After a stall, a pull gets this long to let go (its connections are broken
// loose at once); still running past it, the process is wedged and the watchdog
// stops being fed.
constexpr auto stall_release_grace = std::chrono::seconds(30);

class Daemon {
 public:
  explicit Daemon(config::Config cfg, std::string config_path)
      : config_(std::make_shared<const config::Config>(std::move(cfg))),
        config_path_(std::move(config_path)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        bootstrap_timer_(io_),
        watchdog_timer_(io_),
        pool_(worker_threads) {}

  int run() {
    metrics::describe_all(registry_);
    if (!config_->metrics.listen.empty()) {
      // The loader validated metrics.listen, so it parses.
      const auto hp = config::parse_host_port(config_->metrics.listen).value();
      metrics_server_ = std::make_unique<MetricsServer>(
          hp.host, hp.port, [this] { return registry_.render(); }, [this] { return health(); });
      log::info("metrics listening", {{"address", config_->metrics.listen}});
    }
    listen_for_signals();
    apply_tenants(*config_);
    bootstrap();
    start_watchdog();
    notify("READY=1\nSTATUS=starting: reading sync state");
    log::info("daemon started", {{"tenants", config_->tenants.size()}, {"jobs", jobs_.size()}});
    io_.run();
    // Running pulls were told to stop; give them a bounded time to get there.
    std::thread guard([this] {
      std::unique_lock lock(exit_mutex_);
      if (!exit_cv_.wait_for(lock, shutdown_grace, [this] { return pool_done_; })) {
        log::warn("forced exit", {{"reason", "pulls did not stop within the grace period"}});
        std::_Exit(0);
      }
    });
    pool_.join();
    {
      std::lock_guard lock(exit_mutex_);
      pool_done_ = true;
    }
    exit_cv_.notify_all();
    guard.join();
    log::info("daemon stopped");
    return cli::exit_ok;
  }

 private:
  // Called on the metrics thread: reads only the mutex-guarded health table.
  Health health() {
    std::lock_guard lock(health_mutex_);
    const auto now = RealClock::instance().now_utc();
    std::string reasons;
    const auto add = [&reasons](const std::string& why) {
      if (!reasons.empty()) reasons += "; ";
      reasons += why;
    };
    if (!database_problem_.empty()) add("database: " + database_problem_);
    for (const auto& [key, why] : stalled_) add(key + ": " + why);
    for (const auto& [key, watch] : watches_)
      if (watch->stalled() && stalled_.count(key) == 0) add(key + ": stalled: " + watch->stall_message());
    for (const auto& [key, entry] : health_) {
      const auto& [last_success, stale_after] = entry;
      if (stalled_.count(key) != 0) continue;
      if (!last_success) add(key + ": no successful sync yet");
      else if (now - *last_success > stale_after)
        add(key + ": last successful sync at " + format_iso8601_utc(*last_success));
    }
    if (health_.empty()) reasons = "no tenant configured";
    return {reasons.empty(), reasons};
  }

  void record_health(const Job& job) {
    std::lock_guard lock(health_mutex_);
    health_[job.key()] = {job.last_success, intervals().incremental * stale_after_intervals + stale_slack};
    if (job.stalled)
      stalled_[job.key()] = *job.stalled;
    else
      stalled_.erase(job.key());
    registry_.set(metrics::names::stalled,
                  {{"tenant", job.tenant}, {"dataset", std::string(model::spec(job.dataset).name)}},
                  job.stalled ? 1 : 0);
    registry_.set(metrics::names::up, {}, stalled_.empty() && database_problem_.empty() ? 1 : 0);
  }

  // Between pulls: whether the database answers (bootstrap, runs that could not start).
  void set_database_silent(bool silent) {
    std::lock_guard lock(health_mutex_);
    database_silent_ = silent;
  }

  void record_database(const std::string& problem) {
    std::lock_guard lock(health_mutex_);
    database_problem_ = problem;
    registry_.set(metrics::names::up, {}, stalled_.empty() && database_problem_.empty() ? 1 : 0);
  }

  // Whether the scheduler makes progress, for the watchdog: no job given up as
  // stalled, no silent database, and no pull still running long after its stall
  // broke its connections loose.
  bool making_progress() {
    {
      std::lock_guard lock(health_mutex_);
      if (!stalled_.empty() || database_silent_) return false;
    }
    for (const auto& [key, job] : jobs_)
      if (job->running && job->watch && job->watch->stalled() &&
          RealClock::instance().now_steady() - job->watch->stalled_since() > stall_release_grace)
        return false;
    return true;
  }

  schedule::Intervals intervals() const { return {config_->sync.incremental_interval, config_->sync.full_interval}; }

  void listen_for_signals() {
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        reload();
        listen_for_signals();
      } else {
        shutdown(signal);
      }
    });
  }

  void shutdown(int signal) {
    log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    notify("STOPPING=1");
    stopping_ = true;
    stop_flag_ = true;
    signals_.cancel();
    bootstrap_timer_.cancel();
    watchdog_timer_.cancel();
    for (auto& [key, job] : jobs_) job->timer.cancel();
    stop_when_idle();
  }

  void stop_when_idle() {
    for (const auto& [key, job] : jobs_)
      if (job->running) return;
    io_.stop();
  }

  void reload() {
    log::info("reloading config", {{"file", config_path_}});
    try {
      auto fresh = config::load_file(config_path_);
      config_ = std::make_shared<const config::Config>(std::move(fresh));
    } catch (const config::ConfigError& e) {
      log::error("reload rejected, keeping the running config", {{"file", config_path_}, {"error", e.what()}});
      return;
    }
    apply_tenants(*config_);
    bootstrap();
    log::info("config reloaded", {{"tenants", config_->tenants.size()}, {"jobs", jobs_.size()}});
  }

  // Makes jobs_ match the config: new tenants get jobs, removed ones retire.
  void apply_tenants(const config::Config& cfg) {
    std::set<std::string> wanted;
    std::map<std::string, std::shared_ptr<TenantSession>> sessions;
    for (const auto& tenant : cfg.tenants) {
      std::shared_ptr<TenantSession> shared;
      try {
        shared = session_for(cfg, tenant);
      } catch (const std::exception& e) {
        // One tenant's broken credentials never hold up the others.
        log::error("tenant disabled", {{"tenant", tenant.name}, {"error", e.what()}});
        continue;
      }
      sessions[tenant.name] = shared;
      for (const auto ds : tenant.datasets) {
        const std::string key = tenant.name + "/" + std::string(model::spec(ds).name);
        wanted.insert(key);
        auto& job = jobs_[key];
        if (!job) job = std::make_unique<Job>(io_, tenant.name, ds);
        job->shared = shared;
        job->retired = false;
      }
    }
    sessions_ = std::move(sessions);
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (wanted.count(it->first) != 0) {
        ++it;
        continue;
      }
      log::info("tenant removed", {{"job", it->first}});
      {
        std::lock_guard lock(health_mutex_);
        health_.erase(it->first);
      }
      it->second->timer.cancel();
      it->second->retired = true;
      if (it->second->running) {
        ++it;  // dropped when its run finishes
      } else {
        it = jobs_.erase(it);
      }
    }
  }

  // The tenant's session after a (re)load: the running one while its credentials
  // are the same (its token cache and quota windows go on), else a new one that
  // still counts the calls the old one made for the same tenant.
  std::shared_ptr<TenantSession> session_for(const config::Config& cfg, const config::TenantOptions& tenant) {
    const auto it = sessions_.find(tenant.name);
    const std::shared_ptr<TenantSession> old = it == sessions_.end() ? nullptr : it->second;
    const bool same_tenant = old && old->options().tenant_id == tenant.tenant_id;
    auto fresh = std::make_shared<TenantSession>(cfg, tenant, RealClock::instance(), api::RetryPolicy{},
                                                 same_tenant ? old->shared_quota() : nullptr);
    if (old && old->same_credentials(*fresh)) return old;
    if (old) log::info("tenant credentials changed", {{"tenant", tenant.name}, {"note", "a new token will be requested"}});
    return fresh;
  }

  // Reads sync_state (on a worker: the database may be slow or down) and
  // schedules every idle job from it; retried with backoff until it works.
  void bootstrap() {
    auto cfg = config_;
    asio::post(pool_, [this, cfg] {
      std::map<std::string, store::SyncState> states;
      std::string error;
      try {
        store::SyncStore store(cfg->database.url, cfg->database.schema);
        const auto op = store.connection().operation("migrating the schema", store::migration_operation);
        store::migrate(store.connection(), cfg->database.schema);
        for (const auto& tenant : cfg->tenants)
          for (const auto ds : tenant.datasets)
            states[tenant.name + "/" + std::string(model::spec(ds).name)] = store.state(tenant.name, ds);
      } catch (const std::exception& e) {
        error = e.what();
      }
      asio::post(io_, [this, states = std::move(states), error] { bootstrapped(states, error); });
    });
  }

  void bootstrapped(const std::map<std::string, store::SyncState>& states, const std::string& error) {
    if (stopping_) return;
    if (!error.empty()) {
      bootstrap_failures_ = std::min(bootstrap_failures_ + 1, 10);
      const auto wait = std::min<milliseconds>(std::chrono::seconds(1) * (1 << bootstrap_failures_), max_bootstrap_retry);
      log::error("database unavailable", {{"error", error}, {"retry_in_ms", wait.count()}});
      notify("STATUS=waiting for the database: " + error);
      record_database(error);
      set_database_silent(database_silent(error));
      bootstrap_timer_.expires_after(wait);
      bootstrap_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) bootstrap();
      });
      return;
    }
    bootstrap_failures_ = 0;
    record_database("");
    set_database_silent(false);
    for (auto& [key, job] : jobs_) {
      if (job->running || job->retired) continue;
      const auto it = states.find(key);
      const store::SyncState state = it == states.end() ? store::SyncState{} : it->second;
      if (state.last_full_at || state.last_incremental_at)
        job->last_success = std::max(state.last_full_at.value_or(SystemTime{}), state.last_incremental_at.value_or(SystemTime{}));
      schedule_from(*job, state);
      record_health(*job);
    }
    update_status();
  }

  void schedule_from(Job& job, const store::SyncState& state) {
    const auto jitter = schedule::jitter_for(job.tenant, job.dataset, intervals());
    schedule_at(job, schedule::next_run(state, intervals(), RealClock::instance().now_utc(), jitter));
  }

  void schedule_at(Job& job, schedule::Plan plan) {
    job.plan = plan;
    const auto delay = std::max(plan.due - RealClock::instance().now_utc(), SystemTime::duration::zero());
    job.timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    log::debug("scheduled", {{"tenant", job.tenant}, {"dataset", model::spec(job.dataset).name},
                             {"mode", store::to_string(plan.mode)}, {"due", format_iso8601_utc(plan.due)}});
    job.timer.async_wait([this, &job](const boost::system::error_code& ec) {
      if (!ec) launch(job);
    });
  }

  void launch(Job& job) {
    if (stopping_ || job.running || job.retired) return;
    job.running = true;
    auto cfg = config_;
    auto shared = job.shared;
    const auto mode = job.plan.mode;
    job.watch = std::make_shared<StallWatch>(cfg->sync.stall_timeout);
    {
      std::lock_guard lock(health_mutex_);
      watches_[job.key()] = job.watch;
    }
    asio::post(pool_, [this, &job, cfg, shared, mode, watch = job.watch, unrecorded = job.unrecorded] {
      RunResult result = execute(*cfg, *shared, job.dataset, mode, *watch, unrecorded);
      asio::post(io_, [this, &job, result = std::move(result)] { finished(job, result); });
    });
  }

  RunResult execute(const config::Config& cfg, TenantSession& shared, model::Dataset ds, store::RunMode mode,
                    StallWatch& watch, const std::optional<schedule::PullOutcome>& unrecorded) {
    RunResult result;
    try {
      // A connection per run: a restarted database costs one failed run, not a stuck daemon.
      store::SyncStore store(cfg.database.url, cfg.database.schema);
      if (unrecorded) {
        // The end of a pull given up earlier, now that the database answers.
        schedule::record_outcome(store, *unrecorded);
        result.recorded_earlier = true;
      }
      // HTTP clients are per thread; the tenant's tokens and quota are shared.
      http::Client http(api::client_options(cfg.http));
      api::DefenderClient api(shared.options(), http, shared.tokens(), shared.quota(), RealClock::instance());
      schedule::PullContext ctx{cfg, shared.options(), api, store, RealClock::instance(), &stop_flag_};
      ctx.watch = &watch;
      result.outcome = schedule::run_pull(ctx, {ds, mode, false});
      record_api_metrics(shared, api.stats());
      if (!result.outcome.unrecorded) result.state = store.state(shared.options().name, ds);
    } catch (const std::exception& e) {
      result.error = e.what();
      result.database_silent = database_silent(result.error);
      result.outcome.status = store::RunStatus::failed;
      result.outcome.error = store::describe_failure(e);
      result.outcome.recovery = store::recovery_of(e);
      log::error("pull failed to start", {{"tenant", shared.options().name}, {"dataset", model::spec(ds).name},
                                          {"error", e.what()}});
    }
    return result;
  }

  void record_api_metrics(TenantSession& shared, const api::CallStats& stats) {
    const std::string& tenant = shared.options().name;
    for (const auto& [key, count] : stats.by_status)
      registry_.add(metrics::names::api_requests,
                    {{"tenant", tenant}, {"endpoint", key.first}, {"status", std::to_string(key.second)}},
                    static_cast<double>(count));
    registry_.add(metrics::names::api_throttled, {{"tenant", tenant}}, static_cast<double>(stats.throttled));
    for (const auto family : {ratelimit::Family::json, ratelimit::Family::export_files})
      for (const auto window : {std::chrono::seconds(60), std::chrono::seconds(3600)})
        registry_.set(metrics::names::quota_remaining,
                      {{"tenant", tenant}, {"family", ratelimit::to_string(family)},
                       {"window", window.count() == 60 ? "minute" : "hour"}},
                      shared.quota().remaining(family, window));
  }

  void record_run_metrics(const Job& job, const schedule::PullOutcome& out) {
    const metrics::Labels labels{{"tenant", job.tenant}, {"dataset", std::string(model::spec(job.dataset).name)}};
    registry_.add(metrics::names::rows_received, labels, static_cast<double>(out.counts.received));
    registry_.add(metrics::names::rows_upserted, labels, static_cast<double>(out.counts.upserted));
    registry_.add(metrics::names::rows_removed, labels, static_cast<double>(out.counts.removed));
    registry_.add(metrics::names::rows_rejected, labels, static_cast<double>(out.counts.rejected));
    registry_.add(metrics::names::rows_altered, labels, static_cast<double>(out.counts.altered));
    auto with_mode = labels;
    with_mode.emplace_back("mode", store::to_string(out.mode));
    registry_.set(metrics::names::run_duration_seconds, with_mode, out.duration.count() / 1000.0);
    with_mode.emplace_back("status", out.skipped ? "skipped" : store::to_string(out.status));
    registry_.add(metrics::names::runs, with_mode, 1);
    if (job.last_success)
      registry_.set(metrics::names::last_success_timestamp_seconds, labels,
                    std::chrono::duration<double>(job.last_success->time_since_epoch()).count());
  }

  void finished(Job& job, const RunResult& r) {
    job.running = false;
    {
      std::lock_guard lock(health_mutex_);
      watches_.erase(job.key());
    }
    job.watch.reset();
    const auto& out = r.outcome;
    const auto now = RealClock::instance().now_utc();
    if (r.recorded_earlier) job.unrecorded.reset();
    if (out.unrecorded) job.unrecorded = out;
    // Given up as stalled, or the database was silent: stuck, as far as health
    // and the watchdog are concerned, until a pull of this job succeeds.
    if (!out.stalled_step.empty() || r.database_silent) {
      job.stalled = r.database_silent ? "the database did not answer: " + r.error : out.error;
    } else if (out.status == store::RunStatus::succeeded || out.status == store::RunStatus::guarded) {
      job.stalled.reset();
    }
    if (r.error.empty()) {
      record_database("");
      set_database_silent(false);
    } else {
      record_database(r.error);
      set_database_silent(r.database_silent);
    }
    if (out.skipped) {
      job.last_outcome = "held by another instance";
    } else {
      job.last_outcome = std::string(store::to_string(out.status)) + " " + format_iso8601_utc(now);
      if (out.status == store::RunStatus::succeeded || out.status == store::RunStatus::guarded) job.last_success = now;
    }
    record_run_metrics(job, out);
    record_health(job);
    if (stopping_ || job.retired) {
      if (job.retired) jobs_.erase(job.tenant + "/" + std::string(model::spec(job.dataset).name));
      if (stopping_) stop_when_idle();
      return;
    }
    if (out.skipped) {
      schedule_at(job, {now + std::min(lock_retry, intervals().incremental / 2), job.plan.mode});
    } else if (out.status == store::RunStatus::failed || !r.state) {
      job.failures = std::min(job.failures + 1, 30);
      // Retrying soon helps a busy service or a restarting database, not a
      // rejected secret or a missing permission: those wait a whole interval.
      auto delay = schedule::retry_delay(job.failures, intervals());
      if (out.recovery == Recovery::fatal) delay = std::max<milliseconds>(delay, intervals().incremental);
      log::debug("retry planned", {{"tenant", job.tenant}, {"dataset", model::spec(job.dataset).name},
                                   {"recovery", to_string(out.recovery)}, {"delay_ms", delay.count()}});
      schedule_at(job, {now + delay, job.plan.mode});
    } else {
      job.failures = 0;
      schedule_from(job, *r.state);
    }
    update_status();
  }

  void update_status() {
    std::string status;
    for (const auto& [key, job] : jobs_) {
      if (!status.empty()) status += "; ";
      status += key + ": " + job->last_outcome;
    }
    notify("STATUS=" + status);
  }

  void start_watchdog() {
#ifdef MDESYNC_HAVE_SYSTEMD
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
    watchdog_period_ = std::chrono::microseconds(usec / 2);
    ping_watchdog();
#endif
  }

  void ping_watchdog() {
    // Fed only while the scheduler makes progress: a wedged process is restarted.
    if (making_progress()) notify("WATCHDOG=1");
    watchdog_timer_.expires_after(watchdog_period_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) ping_watchdog();
    });
  }

  asio::io_context io_;
  metrics::Registry registry_;
  std::mutex health_mutex_;
  std::map<std::string, std::pair<std::optional<SystemTime>, milliseconds>> health_;  // job -> last success, stale after
  std::map<std::string, std::string> stalled_;                    // job -> why it was given up
  std::map<std::string, std::shared_ptr<StallWatch>> watches_;   // job -> its running pull's watch
  std::string database_problem_;  // why the database cannot be used now; empty when it can
  bool database_silent_ = false;  // ... because it does not answer (not merely refuses)
  std::shared_ptr<const config::Config> config_;
  std::string config_path_;
  asio::signal_set signals_;
  asio::steady_timer bootstrap_timer_;
  asio::steady_timer watchdog_timer_;
  std::chrono::microseconds watchdog_period_{0};
  std::map<std::string, std::unique_ptr<Job>> jobs_;
  std::map<std::string, std::shared_ptr<TenantSession>> sessions_;  // by tenant name, kept across reloads
  asio::thread_pool pool_;
  std::atomic<bool> stop_flag_{false};
  bool stopping_ = false;
  int bootstrap_failures_ = 0;
  std::mutex exit_mutex_;
  std::condition_variable exit_cv_;
  bool pool_done_ = false;
  // Last member: destroyed first, so its thread stops before what it reads goes away.
  std::unique_ptr<MetricsServer> metrics_server_;
};

}  // namespace

int run(const cli::Command& cmd) {
  auto cfg = load_config(cmd);
  if (!cfg) return cli::exit_config;
  try {
    Daemon daemon(std::move(*cfg), cmd.config_path);
    return daemon.run();
  } catch (const std::exception& e) {
    // Start-up failures only (the metrics address taken, ...); runs never throw this far.
    log::error("daemon failed", {{"error", e.what()}});
    return cli::exit_failure;
  }
}

}  // namespace mdesync::commands
