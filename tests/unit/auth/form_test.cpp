#include "auth/form.hpp"

#include <gtest/gtest.h>

namespace mdesync::auth {
namespace {

TEST(Form, UnreservedCharactersPassOthersArePercentEncoded) {
  EXPECT_EQ(form_urlencode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(form_urlencode("&=+ %"), "%26%3D%2B%20%25");
  EXPECT_EQ(form_urlencode("https://api.securitycenter.microsoft.com/.default"),
            "https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default");
  EXPECT_EQ(form_urlencode("\xc3\xa9\n"), "%C3%A9%0A");
  EXPECT_EQ(form_urlencode(""), "");
}

TEST(Form, BodyJoinsEncodedPairs) {
  EXPECT_EQ(form_body({{"grant_type", "client_credentials"}, {"a b", "c&d"}}),
            "grant_type=client_credentials&a%20b=c%26d");
}

}  // namespace
}  // namespace mdesync::auth
