#include <gtest/gtest.h>
#include <algorithm>

#include <string>
#include <thread>
#include <vector>

#include "store/digest_lines.hpp"
#include "store/known_rows.hpp"
#include "store/row_digest.hpp"

namespace mdesync::store {
namespace {

TEST(RowDigest, IsTheFirstHalfOfSha256) {
  // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 b00361a396177a9cb410ff61f20015ad
  const RowDigest d = digest_row("abc");
  std::string text;
  append_uuid(text, d);
  EXPECT_EQ(text, "ba7816bf-8f01-cfea-4141-40de5dae2223");
}

TEST(RowDigest, UuidTextRoundTrips) {
  for (const char* s : {"", "a", "d1\tapp\t1.0\t\\N", "x\\ty"}) {
    const RowDigest d = digest_row(s);
    std::string text;
    append_uuid(text, d);
    ASSERT_EQ(text.size(), 36u);
    const auto back = parse_uuid(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, d);
  }
  EXPECT_EQ(parse_uuid("BA7816BF-8F01-CFEA-4141-40DE5DAE2223"), digest_row("abc"));
}

TEST(RowDigest, RejectsWhatIsNotAUuid) {
  EXPECT_FALSE(parse_uuid(""));
  EXPECT_FALSE(parse_uuid("ba7816bf8f01cfea414140de5dae2223"));
  EXPECT_FALSE(parse_uuid("ba7816bf-8f01-cfea-4141-40de5dae222g"));
  EXPECT_FALSE(parse_uuid("ba7816bf-8f01-cfea-4141+40de5dae2223"));
  EXPECT_FALSE(parse_uuid("\\N"));
}

std::vector<RowDigest> unseen_of(const KnownRows& known, KnownRows::Settled* settled = nullptr) {
  std::vector<RowDigest> out;
  auto s = known.settle([&](const RowDigest& d) { out.push_back(d); });
  std::sort(out.begin(), out.end());
  if (settled) *settled = std::move(s);
  return out;
}

TEST(KnownRows, MarksOnlyKnownDigestsAndListsTheRestAsUnseen) {
  std::vector<RowDigest> digests;
  for (int i = 0; i < 200; ++i) digests.push_back(digest_row(std::to_string(i)));
  KnownRows known(digests);
  EXPECT_EQ(known.size(), 200u);
  EXPECT_FALSE(known.mark_seen(digest_row("not a row")));
  for (int i = 0; i < 200; i += 2) EXPECT_TRUE(known.mark_seen(digest_row(std::to_string(i))));
  // Seen twice: the second line goes in full (it could be another row sharing 64 bits).
  EXPECT_FALSE(known.mark_seen(digest_row("0")));
  KnownRows::Settled settled;
  const auto unseen = unseen_of(known, &settled);
  EXPECT_EQ(settled.seen, 100u);
  EXPECT_TRUE(settled.suspects.empty());
  ASSERT_EQ(unseen.size(), 100u);
  for (int i = 1; i < 200; i += 2)
    EXPECT_TRUE(std::binary_search(unseen.begin(), unseen.end(), digest_row(std::to_string(i)))) << i;
  // Settling reads the spilled digests again: the same answer twice.
  EXPECT_EQ(unseen_of(known), unseen);
}

TEST(KnownRows, ALineSharingOnlyTheFirst64BitsIsCaughtWhenSettlingAndNamesTheKnownRow) {
  std::vector<RowDigest> digests;
  for (int i = 0; i < 5'000; ++i) digests.push_back(digest_row(std::to_string(i)));
  KnownRows known(digests);
  RowDigest impostor = digests[1234];
  impostor.low ^= 1;  // a different row whose digest starts alike
  EXPECT_TRUE(known.mark_seen(impostor));  // taken as seen on 64 bits of evidence...
  for (int i = 0; i < 5'000; i += 3) known.mark_seen(digests[i]);
  KnownRows::Settled settled;
  unseen_of(known, &settled);
  // ...and caught: the suspects are the seen rows of its slot, the known row among them.
  ASSERT_FALSE(settled.suspects.empty());
  EXPECT_LE(settled.suspects.size(), 32u);
  EXPECT_NE(std::find(settled.suspects.begin(), settled.suspects.end(), digests[1234]), settled.suspects.end());
  for (const auto& d : settled.suspects) EXPECT_TRUE(std::find(digests.begin(), digests.end(), d) != digests.end());
}

TEST(KnownRows, KnownRowsSharingTheFirst64BitsAreNeverTakenAsSeen) {
  const RowDigest a = digest_row("a");
  RowDigest twin = a;
  twin.low += 7;
  KnownRows known(std::vector<RowDigest>{a, twin, digest_row("b")});
  EXPECT_FALSE(known.mark_seen(a));
  EXPECT_FALSE(known.mark_seen(twin));
  EXPECT_TRUE(known.mark_seen(digest_row("b")));
  KnownRows::Settled settled;
  const auto unseen = unseen_of(known, &settled);
  EXPECT_EQ(settled.seen, 1u);
  EXPECT_TRUE(settled.suspects.empty());
  EXPECT_EQ(unseen, (std::vector<RowDigest>{std::min(a, twin), std::max(a, twin)}));
}

TEST(KnownRows, AnEmptySetSeesNothing) {
  KnownRows known(std::vector<RowDigest>{});
  EXPECT_FALSE(known.mark_seen(digest_row("a")));
  EXPECT_TRUE(unseen_of(known).empty());
}

TEST(KnownRows, ADigestFileThatCannotBeCreatedSaysWhere) {
  try {
    KnownRows known(10, "/nonexistent-dir-for-mdesync");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir-for-mdesync"), std::string::npos) << e.what();
  }
}

TEST(KnownRows, SeveralThreadsMarkWithoutLosingABit) {
  std::vector<RowDigest> digests;
  for (int i = 0; i < 10'000; ++i) digests.push_back(digest_row(std::to_string(i)));
  KnownRows known(digests);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < 10'000; i += 4) known.mark_seen(digest_row(std::to_string(i)));
    });
  for (auto& t : threads) t.join();
  KnownRows::Settled settled;
  EXPECT_TRUE(unseen_of(known, &settled).empty());
  EXPECT_EQ(settled.seen, 10'000u);
  EXPECT_TRUE(settled.suspects.empty());
}

TEST(LineDigester, AppendsTheDigestOfEverythingButTheTenant) {
  LineDigester digester(model::Dataset::noncpe, nullptr);
  std::string out;
  digester.process("t1\td1\tapp\n", out);
  std::string expected = "t1\td1\tapp\t";
  append_uuid(expected, digest_row("d1\tapp"));
  EXPECT_EQ(out, expected + "\n");
  // The same row of another tenant has the same digest; a line without newline is whole.
  out.clear();
  digester.process("t2\td1\tapp", out);
  EXPECT_EQ(out.substr(out.size() - 37), expected.substr(expected.size() - 36) + "\n");
}

TEST(LineDigester, KnownRowsShrinkToMarkersWithTheDeviceIdAndNullColumns) {
  const std::string row = "d1\t3\tgroup\tname\tWindows10\tvendor\tapp\t1.0\t2024-01-01 00:00:00+00";
  auto known = std::make_shared<KnownRows>(std::vector<RowDigest>{digest_row(row)});
  LineDigester digester(model::Dataset::noncpe, known);
  std::string out;
  digester.process("t1\t" + row + "\nt1\td2\\tx\t\\N\n", out);
  const auto first_end = out.find('\n');
  std::string marker = "t1\td1";
  for (std::size_t i = 0; i < model::spec(model::Dataset::noncpe).columns.size(); ++i) marker += "\t\\N";
  marker += "\t";
  append_uuid(marker, digest_row(row));
  EXPECT_EQ(out.substr(0, first_end), marker);
  EXPECT_EQ(out.substr(first_end + 1, 12), "t1\td2\\tx\t\\N\t");  // an escaped tab is not a field end
  EXPECT_EQ(digester.unchanged(), 1u);
  EXPECT_TRUE(unseen_of(*known).empty());
}

}  // namespace
}  // namespace mdesync::store
