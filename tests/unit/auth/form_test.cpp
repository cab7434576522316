#include "auth/form.hpp"

#include <gtest/gtest.h>

namespace mdesync::auth {
namespace {

TEST(Form, BodyJoinsEncodedPairs) {
  EXPECT_EQ(form_body({{"grant_type", "client_credentials"}, {"a b", "c&d"}}),
            "grant_type=client_credentials&a%20b=c%26d");
  // percent_encode itself: tests/unit/core/url_test.cpp.
  EXPECT_EQ(form_body({{"client_secret", "a+b=c&d %"}}), "client_secret=a%2Bb%3Dc%26d%20%25");
}

}  // namespace
}  // namespace mdesync::auth
