#pragma once
// Whether a unit of work (a pull) still moves, and how to give it up when it
// does not.
//
// Whatever moves the work's data reports advanced(): bytes from the API or
// storage, rows accepted by PostgreSQL, a statement completed. Whatever can block
// registers an interrupter for as long as it can block: cancel the statement and
// shut the socket, close the HTTP connection. When nothing advanced for the stall
// timeout (sync.stall_timeout), the watch marks itself stalled, remembers the
// step it was in, and runs every interrupter once; the blocked call fails at
// once and the work ends as failed, naming that step. A deliberate wait (quota,
// Retry-After) is announced with waiting() and is not a stall.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/deadline.hpp"

namespace mdesync {

class StallWatch {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using Id = std::uint64_t;

  explicit StallWatch(Duration stall_timeout);
  ~StallWatch();
  StallWatch(const StallWatch&) = delete;
  StallWatch& operator=(const StallWatch&) = delete;

  // What the work does now, in words for the stall message ("staging file x").
  void step(std::string_view name);
  std::string current_step() const;
  void advanced();
  void waiting(Duration wait);

  // Registers how to break a blocked call loose; runs at once when already stalled.
  Id add_interrupter(std::function<void()> interrupt);
  // Unregisters; waits for the interrupter if it is running.
  void remove_interrupter(Id id);

  bool stalled() const;
  // When the stall was detected (meaningful once stalled()).
  std::chrono::steady_clock::time_point stalled_since() const;
  // The step at the moment of the stall (or the current one).
  std::string stalled_step() const;
  Duration timeout() const { return timeout_; }
  // "no progress for 30s while staging file x"
  std::string stall_message() const;

  // Registration for the lifetime of a scope.
  class Interrupter {
   public:
    Interrupter(StallWatch* watch, std::function<void()> interrupt);
    ~Interrupter();
    Interrupter(const Interrupter&) = delete;
    Interrupter& operator=(const Interrupter&) = delete;

   private:
    StallWatch* watch_;
    Id id_ = 0;
  };

 private:
  void on_stall();

  const Duration timeout_;
  mutable std::mutex mutex_;
  std::string step_ = "starting";
  std::string stalled_step_;
  bool stalled_ = false;
  std::chrono::steady_clock::time_point stalled_since_{};
  Id next_id_ = 1;
  std::map<Id, std::shared_ptr<std::function<void()>>> interrupters_;
  std::mutex interrupting_;  // held while interrupters run
  std::unique_ptr<Deadline> deadline_;  // last member: destroyed first
};

}  // namespace mdesync
