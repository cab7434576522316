#include "core/deadline.hpp"

#include <condition_variable>
#include <set>
#include <thread>
#include <vector>

namespace mdesync {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }
Clock::time_point at(std::int64_t ticks) { return Clock::time_point(Clock::duration(ticks)); }

// How often the watcher looks at least: deadlines move later without waking it.
constexpr auto max_sleep = std::chrono::milliseconds(250);

}  // namespace

// The one thread that watches every armed Deadline. Deadlines only ever move
// later except when armed, so it sleeps until the earliest due time it saw (at
// most max_sleep) and re-reads them all.
class DeadlineWatcher {
 public:
  static DeadlineWatcher& instance() {
    static auto* watcher = new DeadlineWatcher;  // never destroyed: deadlines may outlive static destruction
    return *watcher;
  }

  void add(Deadline* d) {
    {
      std::lock_guard lock(mutex_);
      armed_.insert(d);
    }
    wake_.notify_one();
  }

  void remove(Deadline* d) {
    std::lock_guard lock(mutex_);
    armed_.erase(d);
  }

 private:
  DeadlineWatcher() : thread_([this] { run(); }) { thread_.detach(); }

  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      const auto now = Clock::now();
      auto next = now + max_sleep;
      std::vector<Deadline*> due;
      for (Deadline* d : armed_) {
        const auto when = at(d->due_.load());
        if (when <= now)
          due.push_back(d);
        else
          next = std::min(next, when);
      }
      for (Deadline* d : due) {
        armed_.erase(d);
        // The Deadline cannot go away meanwhile: its destructor takes mutex_
        // before firing_, and we take firing_ before letting go of mutex_.
        std::unique_lock firing(d->firing_);
        lock.unlock();
        d->fire();
        firing.unlock();
        lock.lock();
      }
      if (due.empty()) wake_.wait_until(lock, next);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::set<Deadline*> armed_;
  std::thread thread_;
};

Deadline::Deadline(Duration budget, std::function<void()> on_expiry)
    : budget_(budget), on_expiry_(std::move(on_expiry)), due_(ticks(Clock::now() + budget)) {
  DeadlineWatcher::instance().add(this);
}

Deadline::~Deadline() {
  DeadlineWatcher::instance().remove(this);
  std::lock_guard wait_for_a_running_action(firing_);
}

void Deadline::extend() { due_.store(ticks(Clock::now() + budget_)); }

void Deadline::allow(Duration wait) {
  const auto until = ticks(Clock::now() + wait + budget_);
  auto current = due_.load();
  while (current < until && !due_.compare_exchange_weak(current, until)) {
  }
}

void Deadline::fire() {
  if (expired_.exchange(true)) return;
  try {
    on_expiry_();
  } catch (...) {
    // An action that fails to break the work loose leaves the caller's own
    // timeouts (and the daemon's watchdog) to do it.
  }
}

}  // namespace mdesync
