#pragma once
// A deadline that runs an action when it passes without being pushed back.
//
// Work that can hang on the network (a PostgreSQL statement behind a route that
// went dead, a read from a host that stopped answering without closing) arms a
// Deadline with an action that breaks it loose: cancel the statement, shut the
// socket. The blocked call then fails at once, and the caller's error handling
// takes over. One thread for the whole process watches every armed deadline.
//
// Invariants:
//  - the action runs at most once, on the watcher's thread, never after the
//    Deadline's destructor returned (the destructor waits for a running action);
//  - extend() and the destructor never block on the action of another Deadline.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace mdesync {

class Deadline {
 public:
  using Duration = std::chrono::steady_clock::duration;

  Deadline(Duration budget, std::function<void()> on_expiry);
  ~Deadline();
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  // Due `budget` from now again: the work made progress.
  void extend();
  // Due no sooner than `wait` from now: the work waits on purpose (a quota
  // window, a Retry-After) and is not stalled meanwhile.
  void allow(Duration wait);
  // Whether the action ran (or is running).
  bool expired() const { return expired_.load(); }
  Duration budget() const { return budget_; }

 private:
  friend class DeadlineWatcher;
  void fire();

  const Duration budget_;
  std::function<void()> on_expiry_;
  std::atomic<std::int64_t> due_;  // steady_clock ticks
  std::atomic<bool> expired_{false};
  std::mutex firing_;  // held while on_expiry_ runs
};

}  // namespace mdesync
