#include "batch/copy_batch.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace mdesync::batch {
namespace {

TEST(CopyBatch, HandsOnWholeLinesOnceThereAreEnoughAndTheRestAtTheEnd) {
  std::vector<std::string> pieces;
  CopyBatch b([&](std::string_view p) { pieces.emplace_back(p); }, 10);
  b.lines() += "a\tb\n";
  b.maybe_flush();
  EXPECT_TRUE(pieces.empty());
  b.lines() += "c\td\ne\tf\n";
  b.maybe_flush();
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0], "a\tb\nc\td\ne\tf\n");
  b.lines() += "g\n";
  b.flush();
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[1], "g\n");
  b.flush();
  EXPECT_EQ(pieces.size(), 2u) << "nothing left: no empty piece";
  EXPECT_EQ(b.flushed_bytes(), 14u);
}

TEST(CopyBatch, DiscardForgetsWhatWasNotHandedOn) {
  std::vector<std::string> pieces;
  CopyBatch b([&](std::string_view p) { pieces.emplace_back(p); }, 100);
  b.lines() += "x\n";
  b.discard();
  b.flush();
  EXPECT_TRUE(pieces.empty());
}

}  // namespace
}  // namespace mdesync::batch
