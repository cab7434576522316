#include "core/deadline.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/stall_watch.hpp"

namespace mdesync {
namespace {

using namespace std::chrono_literals;

// Waits (generously: CI machines stall) until `done` holds.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

TEST(Deadline, RunsItsActionOnceWhenNotPushedBack) {
  std::atomic<int> runs{0};
  Deadline d(50ms, [&] { ++runs; });
  ASSERT_TRUE(eventually([&] { return runs.load() == 1; }));
  EXPECT_TRUE(d.expired());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(runs.load(), 1);
}

TEST(Deadline, PushedBackWhileWorkProgressesItNeverRuns) {
  std::atomic<int> runs{0};
  {
    Deadline d(2s, [&] { ++runs; });
    for (int i = 0; i < 30; ++i) {
      d.extend();
      std::this_thread::sleep_for(10ms);
    }
  }  // destroyed armed: never runs afterwards
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), 0);
}

TEST(Deadline, TheDestructorWaitsForARunningAction) {
  std::atomic<bool> started{false}, finished{false};
  auto d = std::make_unique<Deadline>(1ms, [&] {
    started = true;
    std::this_thread::sleep_for(200ms);
    finished = true;
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  d.reset();
  EXPECT_TRUE(finished.load());
}

TEST(StallWatch, AStallRunsEveryInterrupterOnceAndNamesTheStep) {
  StallWatch watch(50ms);
  std::atomic<int> a{0}, b{0};
  StallWatch::Interrupter first(&watch, [&] { ++a; });
  StallWatch::Interrupter second(&watch, [&] { ++b; });
  watch.step("downloading page 7");
  ASSERT_TRUE(eventually([&] { return watch.stalled(); }));
  ASSERT_TRUE(eventually([&] { return a.load() == 1 && b.load() == 1; }));
  EXPECT_EQ(watch.stalled_step(), "downloading page 7");
  EXPECT_EQ(watch.stall_message(), "no progress for 50ms while downloading page 7");
  // Whatever registers after the stall is broken loose at once.
  std::atomic<int> late{0};
  StallWatch::Interrupter third(&watch, [&] { ++late; });
  EXPECT_EQ(late.load(), 1);
}

TEST(StallWatch, ProgressAndAnnouncedWaitsAreNotStalls) {
  StallWatch watch(2s);
  for (int i = 0; i < 30; ++i) {
    watch.advanced();
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(watch.stalled());
  StallWatch waiting(50ms);
  waiting.waiting(3s);  // a quota window: not a stall while it lasts
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(waiting.stalled());
}

}  // namespace
}  // namespace mdesync
