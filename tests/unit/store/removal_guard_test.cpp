#include "store/removal_guard.hpp"

#include <gtest/gtest.h>

namespace mdesync::store {
namespace {

TEST(RemovalGuard, RemovesWhatTheSnapshotNoLongerListsUpToTheRatio) {
  const auto v = judge_removals(1000, 300, 0.3, false);
  EXPECT_FALSE(v.guarded);
  EXPECT_TRUE(v.remove);
}

TEST(RemovalGuard, HoldsBackRemovalsPastTheRatio) {
  const auto v = judge_removals(1000, 301, 0.3, false);
  EXPECT_TRUE(v.guarded);
  EXPECT_FALSE(v.remove);
}

TEST(RemovalGuard, ForceAppliesRemovalsPastTheRatio) {
  const auto v = judge_removals(1000, 1000, 0.3, true);
  EXPECT_FALSE(v.guarded);
  EXPECT_TRUE(v.remove);
}

TEST(RemovalGuard, NothingToRemoveIsNeitherGuardedNorARemoval) {
  const auto v = judge_removals(1000, 0, 0.3, false);
  EXPECT_FALSE(v.guarded);
  EXPECT_FALSE(v.remove);
}

TEST(RemovalGuard, ATenantWithoutCurrentRowsHasNothingToGuard) {
  // Every row removed earlier: a snapshot listing none of them removes nothing new.
  const auto v = judge_removals(0, 0, 0.3, false);
  EXPECT_FALSE(v.guarded);
  EXPECT_FALSE(v.remove);
}

TEST(RemovalGuard, ARatioOfZeroGuardsAnyRemovalAndOneNeverGuards) {
  EXPECT_TRUE(judge_removals(10, 1, 0.0, false).guarded);
  EXPECT_FALSE(judge_removals(10, 10, 1.0, false).guarded);
  EXPECT_TRUE(judge_removals(10, 10, 1.0, false).remove);
}

}  // namespace
}  // namespace mdesync::store
