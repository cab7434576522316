// version_sort_key(): versions order as versions, not as text.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "support/test_database.hpp"

namespace mdesync::store {
namespace {

using testing::database_url;
using testing::TempSchema;

class VersionOrder : public ::testing::Test {
 protected:
  void SetUp() override { migrate(conn, schema.name()); }

  // True when version_sort_key(a) < version_sort_key(b).
  bool older(const std::string& a, const std::string& b) {
    pqxx::nontransaction tx(conn);
    const std::string key = tx.quote_name(schema.name()) + ".version_sort_key";
    return tx.exec1("SELECT " + key + "(" + tx.quote(a) + ") < " + key + "(" + tx.quote(b) + ")")[0].as<bool>();
  }

  TempSchema schema{"versions"};
  Connection conn{database_url()};
};

TEST_F(VersionOrder, NumericPartsCompareAsNumbers) {
  EXPECT_TRUE(older("10.0.9200.1", "10.0.17763.1637"));
  EXPECT_TRUE(older("1.9", "1.10"));
  EXPECT_TRUE(older("2.4.57", "2.4.100"));
  EXPECT_TRUE(older("9.0.85", "10.1.18"));
  EXPECT_TRUE(older("119.0.6045.200", "120.0.6099.130"));
}

TEST_F(VersionOrder, MoreNumericPartsIsNewerAndLeadingZerosDoNotCount) {
  EXPECT_TRUE(older("2.0", "2.0.1"));
  EXPECT_TRUE(older("4.10.07073", "4.10.08025"));
  EXPECT_FALSE(older("1.01", "1.1"));
  EXPECT_FALSE(older("1.1", "1.01"));
}

TEST_F(VersionOrder, PreReleaseWordsSortBeforeTheReleaseOtherLettersAfter) {
  EXPECT_TRUE(older("2.0-alpha", "2.0-beta"));
  EXPECT_TRUE(older("2.0-beta", "2.0-rc1"));
  EXPECT_TRUE(older("2.0-rc1", "2.0-rc2"));
  EXPECT_TRUE(older("2.0-rc1", "2.0"));
  EXPECT_TRUE(older("2.0-beta.2", "2.0-beta.10"));
  EXPECT_TRUE(older("1.0.2", "1.0.2k"));        // OpenSSL-style patch letters come after
  EXPECT_TRUE(older("1.0.2k", "1.0.2l"));
  EXPECT_TRUE(older("1.0.2k", "1.0.3"));
  EXPECT_TRUE(older("115.6.0esr", "121.0.1"));
}

TEST_F(VersionOrder, LettersIgnoreCaseAndALeadingVAndSeparatorsOnlySeparate) {
  EXPECT_FALSE(older("2.0-BETA", "2.0-beta"));
  EXPECT_FALSE(older("2.0-beta", "2.0-BETA"));
  EXPECT_FALSE(older("v1.2", "1.2"));
  EXPECT_FALSE(older("1.2", "v1.2"));
  EXPECT_TRUE(older("v1.2", "1.10"));
  EXPECT_FALSE(older("1_2", "1.2"));
  EXPECT_TRUE(older("", "0.1"));
}

TEST_F(VersionOrder, LatestVersionPerSoftwareIsTheVersionOrderedMaximum) {
  pqxx::nontransaction tx(conn);
  const std::string key = tx.quote_name(schema.name()) + ".version_sort_key";
  const auto r = tx.exec1("SELECT string_agg(v, ' ' ORDER BY " + key +
                          "(v)) FROM unnest(ARRAY['10.0.17763.1637', '10.0.9200.1', '1.10', '1.9', '2.0', "
                          "'2.0-beta', '2.0.1']) AS v");
  EXPECT_EQ(r[0].as<std::string>(), "1.9 1.10 2.0-beta 2.0 2.0.1 10.0.9200.1 10.0.17763.1637");
  EXPECT_TRUE(tx.exec1("SELECT " + key + "(NULL) IS NULL")[0].as<bool>());
}

}  // namespace
}  // namespace mdesync::store
