#include <gtest/gtest.h>

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

TEST(KnownRows, MarksOnlyKnownDigestsAndListsTheRestAsUnseen) {
  std::vector<RowDigest> digests;
  for (int i = 0; i < 200; ++i) digests.push_back(digest_row(std::to_string(i)));
  digests.push_back(digests[5]);  // a duplicate collapses
  KnownRows known(digests);
  EXPECT_EQ(known.size(), 200u);
  EXPECT_FALSE(known.mark_seen(digest_row("not a row")));
  for (int i = 0; i < 200; i += 2) EXPECT_TRUE(known.mark_seen(digest_row(std::to_string(i))));
  EXPECT_TRUE(known.mark_seen(digest_row("0")));  // twice is fine
  const auto unseen = known.unseen();
  ASSERT_EQ(unseen.size(), 100u);
  for (int i = 1; i < 200; i += 2)
    EXPECT_TRUE(std::binary_search(unseen.begin(), unseen.end(), digest_row(std::to_string(i)))) << i;
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
  EXPECT_TRUE(known.unseen().empty());
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
  EXPECT_TRUE(known->unseen().empty());
}

}  // namespace
}  // namespace mdesync::store
