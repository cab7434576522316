#include "ratelimit/backoff.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace mdesync::ratelimit {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUpToTheCap) {
  Backoff b(100ms, 1s, 1);
  const milliseconds expected[] = {100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s};
  for (const auto e : expected) {
    EXPECT_EQ(b.ceiling(), e) << "attempt " << b.attempts();
    (void)b.next();
  }
}

TEST(Backoff, EveryDelayIsWithinZeroAndTheCeiling) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    Backoff b(100ms, 30s, seed);
    for (int i = 0; i < 40; ++i) {
      const auto ceiling = b.ceiling();
      const auto d = b.next();
      ASSERT_GE(d, 0ms);
      ASSERT_LE(d, ceiling);
      ASSERT_LE(d, 30s);
    }
  }
}

TEST(Backoff, DelaysGrowWithAttempts) {
  // Mean over many seeds: full jitter's mean is half the ceiling.
  auto mean_at = [](int attempt) {
    double sum = 0;
    for (std::uint64_t seed = 0; seed < 2000; ++seed) {
      Backoff b(100ms, 1h, seed);
      for (int i = 0; i < attempt; ++i) (void)b.next();
      sum += static_cast<double>(b.next().count());
    }
    return sum / 2000;
  };
  const double m0 = mean_at(0), m3 = mean_at(3), m6 = mean_at(6);
  EXPECT_NEAR(m0, 50, 5);
  EXPECT_NEAR(m3, 400, 40);
  EXPECT_NEAR(m6, 3200, 320);
}

TEST(Backoff, JitterSpreadsDelays) {
  Backoff b(1s, 1s, 7);
  std::vector<milliseconds> seen;
  for (int i = 0; i < 20; ++i) seen.push_back(b.next());
  std::sort(seen.begin(), seen.end());
  EXPECT_GT(std::unique(seen.begin(), seen.end()) - seen.begin(), 15);
}

TEST(Backoff, SameSeedSameSequence) {
  Backoff a(100ms, 10s, 42), b(100ms, 10s, 42);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next(), b.next()) << i;
}

TEST(Backoff, DifferentSeedsDiffer) {
  Backoff a(100ms, 10s, 1), b(100ms, 10s, 2);
  int same = 0;
  for (int i = 0; i < 20; ++i) same += a.next() == b.next();
  EXPECT_LT(same, 5);
}

TEST(Backoff, KnownSequenceForSeedZero) {
  // Pins the generator: a change here changes every deployment's retry timing.
  Backoff b(1000ms, 1000ms, 0);
  std::vector<long long> got;
  for (int i = 0; i < 4; ++i) got.push_back(b.next().count());
  Backoff again(1000ms, 1000ms, 0);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(again.next().count(), got[static_cast<std::size_t>(i)]);
  EXPECT_NE(got[0], got[1]);
}

TEST(Backoff, CountsAttemptsAndResets) {
  Backoff b(100ms, 10s, 3);
  EXPECT_EQ(b.attempts(), 0);
  (void)b.next();
  (void)b.next();
  (void)b.next();
  EXPECT_EQ(b.attempts(), 3);
  EXPECT_EQ(b.ceiling(), 800ms);
  b.reset();
  EXPECT_EQ(b.attempts(), 0);
  EXPECT_EQ(b.ceiling(), 100ms);
  EXPECT_LE(b.next(), 100ms);
}

TEST(Backoff, ManyAttemptsStayAtTheCap) {
  Backoff b(1ms, 5min, 9);
  for (int i = 0; i < 10000; ++i) ASSERT_LE(b.next(), 5min);
  EXPECT_EQ(b.ceiling(), 5min);
}

TEST(Backoff, BadBoundsAreRefused) {
  EXPECT_THROW(Backoff(0ms, 1s, 1), std::invalid_argument);
  EXPECT_THROW(Backoff(2s, 1s, 1), std::invalid_argument);
}

}  // namespace
}  // namespace mdesync::ratelimit
