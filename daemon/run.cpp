// `mdesync run`: one Asio event loop drives the scheduler's decisions
// (lib/schedule/scheduler.hpp) with timers; pulls run on a small worker pool;
// signals, sd_notify and the metrics endpoint are wired here.
//
// Invariants:
//  - never two runs of one tenant and data set at once: here (Scheduler::begin)
//    and across instances (the advisory lock taken by run_pull; a standby retries);
//  - due times come from sync_state, so restarts neither re-sync nor forget;
//  - the database may be down at start or go away: runs fail, are retried with
//    backoff, and the daemon recovers by itself;
//  - SIGTERM/SIGINT stop scheduling, let running pulls stop at their next page or
//    file (snapshots apply atomically, so nothing half-applied is left), exit 0;
//  - SIGHUP reloads the config; a bad new config is logged and ignored;
//  - never stuck, never silent: every pull answers to a StallWatch
//    (sync.stall_timeout); a stalled pull, or a database that does not answer
//    within its deadlines, turns /healthz 503 and mdesync_up 0, and WATCHDOG=1
//    stops until syncing works again, so systemd restarts a wedged process
//    (daemon/health.hpp).
#include "daemon/run.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <unistd.h>

#ifdef MDESYNC_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "api/client_options.hpp"
#include "api/defender_client.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "daemon/commands.hpp"
#include "daemon/health.hpp"
#include "daemon/metrics_server.hpp"
#include "daemon/run_metrics.hpp"
#include "daemon/tenant_session.hpp"
#include "http/client.hpp"
#include "metrics/names.hpp"
#include "metrics/registry.hpp"
#include "schedule/pull.hpp"
#include "schedule/scheduler.hpp"
#include "store/connection.hpp"
#include "store/failure.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"

namespace mdesync::commands {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using schedule::JobId;

// Pulls running at once across all tenants: each holds a database connection
// and an HTTPS connection; the quota, not parallelism, bounds throughput.
constexpr int worker_threads = 4;
// After SIGTERM, running pulls get this long to reach a page or file boundary.
constexpr auto shutdown_grace = std::chrono::seconds(30);
// /healthz turns 503 when a job's last success is older than this many incremental intervals (plus slack).
constexpr int stale_after_intervals = 2;
constexpr milliseconds stale_slack = std::chrono::minutes(10);
// After a stall, a pull gets this long to let go (its connections are broken
// loose at once); still running past it, the process is wedged and the watchdog
// stops being fed.
constexpr auto stall_release_grace = std::chrono::seconds(30);

void notify(const std::string& state) {
#ifdef MDESYNC_HAVE_SYSTEMD
  sd_notify(0, state.c_str());
#else
  (void)state;
#endif
}

// A new connection that timed out (libpq: "timeout expired") or a connection
// broken loose by a deadline: the database is silent, not merely refusing.
bool database_silent(const std::string& error) {
  return error.find("timeout expired") != std::string::npos ||
         error.find("did not answer within") != std::string::npos;
}

// What the event loop keeps per job beyond the scheduler's decisions.
struct Job {
  Job(asio::io_context& io, JobId i) : id(std::move(i)), timer(io) {}
  std::string dataset() const { return std::string(model::spec(id.dataset).name); }
  JobId id;
  asio::steady_timer timer;
  std::shared_ptr<TenantSession> shared;  // the tenant's token cache and quota, shared by its jobs
  std::shared_ptr<StallWatch> watch;      // the running pull's
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

schedule::RunReport report_of(const RunResult& r) {
  using Result = schedule::RunReport::Result;
  const auto& out = r.outcome;
  schedule::RunReport report;
  report.result = out.skipped                                 ? Result::skipped
                  : out.status == store::RunStatus::succeeded ? Result::succeeded
                  : out.status == store::RunStatus::guarded   ? Result::guarded
                                                              : Result::failed;
  report.recovery = out.recovery;
  report.state = r.state;
  if (r.database_silent)
    report.stalled = "the database did not answer: " + r.error;
  else if (!out.stalled_step.empty())
    report.stalled = out.error;
  return report;
}

class Daemon {
 public:
  explicit Daemon(config::Config cfg, std::string config_path)
      : config_(std::make_shared<const config::Config>(std::move(cfg))),
        config_path_(std::move(config_path)),
        signals_(io_, SIGINT, SIGTERM, SIGHUP),
        bootstrap_timer_(io_),
        watchdog_timer_(io_),
        scheduler_(RealClock::instance(), intervals(), std::random_device{}()),
        health_(registry_),
        pool_(worker_threads) {}

  int run() {
    metrics::describe_all(registry_);
    if (!config_->metrics.listen.empty()) {
      // The loader validated metrics.listen, so it parses.
      const auto hp = config::parse_host_port(config_->metrics.listen).value();
      metrics_server_ = std::make_unique<MetricsServer>(
          hp.host, hp.port, [this] { return registry_.render(); },
          [this] { return health_.report(RealClock::instance().now_utc()); });
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
  schedule::Intervals intervals() const { return {config_->sync.incremental_interval, config_->sync.full_interval}; }
  milliseconds stale_after() const { return intervals().incremental * stale_after_intervals + stale_slack; }

  void record_health(const Job& job) {
    const auto* state = scheduler_.state(job.id);
    if (state == nullptr) return;
    health_.job(job.id.tenant, job.dataset(), state->last_success, stale_after(), state->stalled);
  }

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
    for (const auto& [id, state] : scheduler_.jobs())
      if (state.running) return;
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
    scheduler_.set_intervals(intervals());
    apply_tenants(*config_);
    bootstrap();
    log::info("config reloaded", {{"tenants", config_->tenants.size()}, {"jobs", jobs_.size()}});
  }

  // Makes jobs_ match the config: new tenants get jobs, removed ones retire.
  void apply_tenants(const config::Config& cfg) {
    std::vector<JobId> wanted;
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
        const JobId id{tenant.name, ds};
        wanted.push_back(id);
        auto& job = jobs_[id.key()];
        if (!job) job = std::make_unique<Job>(io_, id);
        job->shared = shared;
      }
    }
    sessions_ = std::move(sessions);
    for (const auto& gone : scheduler_.reconcile(wanted)) {
      log::info("tenant removed", {{"job", gone.key()}});
      health_.forget(gone.tenant, std::string(model::spec(gone.dataset).name));
      if (const auto it = jobs_.find(gone.key()); it != jobs_.end()) {
        it->second->timer.cancel();
        jobs_.erase(it);
      }
    }
    // Jobs that left while running stop their timers now and leave when their run ends.
    for (const auto& [id, state] : scheduler_.jobs())
      if (state.retired) {
        jobs_.at(id.key())->timer.cancel();
        health_.forget(id.tenant, std::string(model::spec(id.dataset).name));
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
        commands::prepare_schema(store.connection(), *cfg);
        for (const auto& tenant : cfg->tenants)
          for (const auto ds : tenant.datasets) states[JobId{tenant.name, ds}.key()] = store.state(tenant.name, ds);
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
      const auto wait = scheduler_.bootstrap_retry(bootstrap_failures_);
      log::error("database unavailable", {{"error", error}, {"retry_in_ms", wait.count()}});
      notify("STATUS=waiting for the database: " + error);
      health_.database(error, database_silent(error));
      bootstrap_timer_.expires_after(wait);
      bootstrap_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) bootstrap();
      });
      return;
    }
    bootstrap_failures_ = 0;
    health_.database("", false);
    for (const auto& [id, state] : scheduler_.jobs()) {
      if (state.running || state.retired) continue;
      const auto it = states.find(id.key());
      schedule_at(*jobs_.at(id.key()), scheduler_.schedule(id, it == states.end() ? store::SyncState{} : it->second));
    }
    for (const auto& [key, job] : jobs_) record_health(*job);
    update_status();
  }

  void schedule_at(Job& job, schedule::Plan plan) {
    const auto delay = std::max(plan.due - RealClock::instance().now_utc(), SystemTime::duration::zero());
    job.timer.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(delay));
    log::debug("scheduled", {{"tenant", job.id.tenant}, {"dataset", job.dataset()},
                             {"mode", store::to_string(plan.mode)}, {"due", format_iso8601_utc(plan.due)}});
    job.timer.async_wait([this, &job](const boost::system::error_code& ec) {
      if (!ec) launch(job);
    });
  }

  void launch(Job& job) {
    if (stopping_ || !scheduler_.begin(job.id)) return;
    auto cfg = config_;
    auto shared = job.shared;
    const auto mode = scheduler_.state(job.id)->plan.mode;
    job.watch = std::make_shared<StallWatch>(cfg->sync.stall_timeout);
    health_.watching(job.id.tenant, job.dataset(), job.watch);
    asio::post(pool_, [this, &job, cfg, shared, mode, watch = job.watch, unrecorded = job.unrecorded] {
      RunResult result = execute(*cfg, *shared, job.id.dataset, mode, *watch, unrecorded);
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
      record_api_metrics(registry_, shared.options().name, api.stats(), shared.quota());
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

  void finished(Job& job, const RunResult& r) {
    const JobId id = job.id;  // `job` may be erased below
    job.watch.reset();
    health_.watching(id.tenant, job.dataset(), nullptr);
    if (r.recorded_earlier) job.unrecorded.reset();
    if (r.outcome.unrecorded) job.unrecorded = r.outcome;
    health_.database(r.error, r.database_silent);
    const auto next = scheduler_.finish(id, report_of(r));
    const auto* state = scheduler_.state(id);
    record_run_metrics(registry_, id.tenant, job.dataset(), r.outcome,
                       state != nullptr ? state->last_success : std::nullopt);
    if (!next) {  // its tenant left the config meanwhile
      jobs_.erase(id.key());
      if (stopping_) stop_when_idle();
      return;
    }
    record_health(job);
    if (stopping_) {
      stop_when_idle();
      return;
    }
    if (state->failures > 0)
      log::debug("retry planned", {{"tenant", id.tenant}, {"dataset", job.dataset()},
                                   {"recovery", to_string(r.outcome.recovery)}, {"due", format_iso8601_utc(next->due)}});
    schedule_at(job, *next);
    update_status();
  }

  void update_status() {
    std::string status;
    for (const auto& [id, state] : scheduler_.jobs()) {
      if (!status.empty()) status += "; ";
      status += id.key() + ": " + state.last_outcome;
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
    if (health_.making_progress(RealClock::instance().now_steady(), stall_release_grace)) notify("WATCHDOG=1");
    watchdog_timer_.expires_after(watchdog_period_);
    watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) ping_watchdog();
    });
  }

  asio::io_context io_;
  metrics::Registry registry_;
  std::shared_ptr<const config::Config> config_;
  std::string config_path_;
  asio::signal_set signals_;
  asio::steady_timer bootstrap_timer_;
  asio::steady_timer watchdog_timer_;
  std::chrono::microseconds watchdog_period_{0};
  schedule::Scheduler scheduler_;
  HealthBoard health_;
  std::map<std::string, std::unique_ptr<Job>> jobs_;                // by JobId::key()
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
