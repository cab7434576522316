#include "core/stall_watch.hpp"

#include <vector>

#include "core/duration.hpp"

namespace mdesync {

StallWatch::StallWatch(Duration stall_timeout)
    : timeout_(stall_timeout), deadline_(std::make_unique<Deadline>(stall_timeout, [this] { on_stall(); })) {}

StallWatch::~StallWatch() { deadline_.reset(); }

void StallWatch::step(std::string_view name) {
  {
    std::lock_guard lock(mutex_);
    step_.assign(name);
  }
  deadline_->extend();
}

void StallWatch::advanced() { deadline_->extend(); }

void StallWatch::waiting(Duration wait) { deadline_->allow(wait); }

StallWatch::Id StallWatch::add_interrupter(std::function<void()> interrupt) {
  auto action = std::make_shared<std::function<void()>>(std::move(interrupt));
  Id id;
  bool stalled;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    interrupters_[id] = action;
    stalled = stalled_;
  }
  if (stalled) {
    std::lock_guard running(interrupting_);
    (*action)();
  }
  return id;
}

void StallWatch::remove_interrupter(Id id) {
  {
    std::lock_guard lock(mutex_);
    interrupters_.erase(id);
  }
  std::lock_guard wait_for_running_interrupters(interrupting_);
}

bool StallWatch::stalled() const {
  std::lock_guard lock(mutex_);
  return stalled_;
}

std::string StallWatch::current_step() const {
  std::lock_guard lock(mutex_);
  return step_;
}

std::chrono::steady_clock::time_point StallWatch::stalled_since() const {
  std::lock_guard lock(mutex_);
  return stalled_since_;
}

std::string StallWatch::stalled_step() const {
  std::lock_guard lock(mutex_);
  return stalled_ ? stalled_step_ : step_;
}

std::string StallWatch::stall_message() const {
  return "no progress for " + format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(timeout_)) +
         " while " + stalled_step();
}

void StallWatch::on_stall() {
  std::vector<std::shared_ptr<std::function<void()>>> actions;
  {
    std::lock_guard lock(mutex_);
    stalled_ = true;
    stalled_since_ = std::chrono::steady_clock::now();
    stalled_step_ = step_;
    for (const auto& [id, action] : interrupters_) actions.push_back(action);
  }
  std::lock_guard running(interrupting_);
  for (const auto& action : actions) {
    try {
      (*action)();
    } catch (...) {
    }
  }
}

StallWatch::Interrupter::Interrupter(StallWatch* watch, std::function<void()> interrupt) : watch_(watch) {
  if (watch_ != nullptr) id_ = watch_->add_interrupter(std::move(interrupt));
}

StallWatch::Interrupter::~Interrupter() {
  if (watch_ != nullptr) watch_->remove_interrupter(id_);
}

}  // namespace mdesync
