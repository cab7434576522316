// The token endpoint's answers read without a transport: what TokenSource and
// the token fuzz target (tests/fuzz/token_target.cpp) both rely on.
#include "auth/token_response.hpp"

#include <gtest/gtest.h>

#include "auth/token_error.hpp"
#include "core/error.hpp"

namespace mdesync::auth {
namespace {

constexpr const char* what = "tenant \"t\": token response ";

Error grant_error(std::string_view body) {
  try {
    read_token_grant(body, what);
  } catch (const Error& e) {
    return e;
  }
  throw std::runtime_error("granted: " + std::string(body));
}

TEST(TokenResponse, ReadsTheTokenAndItsLifetime) {
  const auto g = read_token_grant(R"({"token_type":"Bearer","expires_in":"3599","access_token":"tok"})", what);
  EXPECT_EQ(g.access_token, "tok");
  EXPECT_EQ(g.expires_in, std::chrono::seconds(3599));
  EXPECT_EQ(read_token_grant(R"({"access_token":"tok","expires_in":86400})", what).expires_in, max_token_lifetime);
}

TEST(TokenResponse, TokenTypeIsBearerExactly) {
  // c_str() comparison once read "bearer\u0000x" as "bearer".
  const auto e = grant_error(R"({"token_type":"bearer\u0000x","expires_in":3599,"access_token":"tok"})");
  EXPECT_EQ(e.kind(), ErrorKind::auth);
  EXPECT_STREQ(e.what(), "tenant \"t\": token response has token_type \"bearer\\u0000x\", expected Bearer");
}

TEST(TokenResponse, ServerTextInMessagesIsQuotedAndBounded) {
  const auto e = grant_error(R"({"access_token":"tok","expires_in":1,"token_type":")" +
                             std::string("x\\n\\u001b[31m") + std::string(500, 'y') + "\"}");
  const std::string m = e.what();
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
  EXPECT_LT(m.size(), 200u) << m;
  // A token_type holding the token is not shown at all.
  const auto hidden = grant_error(R"({"access_token":"secret-token","expires_in":1,"token_type":"xsecret-token"})");
  EXPECT_EQ(std::string(hidden.what()).find("secret-token"), std::string::npos) << hidden.what();
}

TEST(TokenResponse, RefusalsNameWhatIsMissing) {
  EXPECT_EQ(grant_error("<html>proxy</html>").kind(), ErrorKind::transient);
  EXPECT_EQ(grant_error(R"({"access_token":"","expires_in":1})").kind(), ErrorKind::auth);
  for (const char* expiry : {"0", "-1", "86401", "\"\"", "\"-5\"", "3599.0", "null", "[3599]"}) {
    const auto e = grant_error(std::string(R"({"access_token":"tok","expires_in":)") + expiry + "}");
    EXPECT_EQ(e.kind(), ErrorKind::auth) << expiry;
    EXPECT_NE(std::string(e.what()).find("expires_in"), std::string::npos) << expiry;
  }
}

// App Service's identity endpoint sends expires_on (Unix seconds) and no expires_in.
TEST(TokenResponse, ExpiresOnCountsOnlyForAManagedIdentityAndOnlyWithoutExpiresIn) {
  const std::chrono::system_clock::time_point asked{std::chrono::seconds(1'700'000'000)};
  const auto on = [&](const std::string& expires) {
    return R"({"access_token":"tok","token_type":"Bearer","expires_on":)" + expires + "}";
  };
  EXPECT_EQ(read_token_grant(on("\"1700007200\""), what, asked).expires_in, std::chrono::seconds(7200));
  // Not asked for (the OAuth flows): expires_on is no lifetime.
  EXPECT_NE(std::string(grant_error(on("1700007200")).what()).find("has no valid expires_in"), std::string::npos);
  // expires_in wins where both are sent (IMDS sends both).
  EXPECT_EQ(read_token_grant(R"({"access_token":"tok","expires_in":"60","expires_on":"1700007200"})", what, asked)
                .expires_in,
            std::chrono::seconds(60));
  // Our clock a little behind theirs: a day and a bit is cut to the day, not refused.
  EXPECT_EQ(read_token_grant(on("1700086410"), what, asked).expires_in, max_token_lifetime);
  for (const std::string bad : {"1700000000", "1699999000", "\"x\"", "-1", "9223372036854775807"}) {
    try {
      read_token_grant(on(bad), what, asked);
      ADD_FAILURE() << "granted with expires_on " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::auth) << bad;
      EXPECT_NE(std::string(e.what()).find("has no valid expires_in or expires_on"), std::string::npos) << e.what();
    }
  }
}

TEST(TokenError, AManagedIdentityNotReadyYetIsTransientAndItsRefusalsNameIt) {
  config::TenantOptions tenant;
  tenant.name = "t";
  tenant.secret.kind = config::SecretKind::managed_identity;
  for (const int status : {404, 410}) EXPECT_EQ(token_error(tenant, status, "", std::nullopt, {}).kind(), ErrorKind::transient);
  const auto refused = token_error(tenant, 403, R"({"statusCode":403,"message":"The X-IDENTITY-HEADER header is missing"})",
                                   std::nullopt, {});
  EXPECT_EQ(refused.kind(), ErrorKind::auth);
  EXPECT_NE(std::string(refused.what()).find("managed identity token request failed (HTTP 403): The X-IDENTITY-HEADER"),
            std::string::npos)
      << refused.what();
  // For the OAuth flows a 404 is the wrong token_url, not something to wait for.
  tenant.secret.kind = config::SecretKind::file;
  EXPECT_EQ(token_error(tenant, 404, "", std::nullopt, {}).kind(), ErrorKind::auth);
}

TEST(TokenError, DescriptionsAreOneBoundedLineOfValidUtf8) {
  config::TenantOptions tenant;
  tenant.name = "t";
  // 399 ASCII bytes, then 'é': the cut at 400 bytes must not split it.
  const std::string description = std::string(399, 'd') + "\xc3\xa9" + std::string(50, 'e');
  const auto e = token_error(tenant, 400,
                             R"({"error":"invalid_request\u007f","error_description":")" + description + "\"}",
                             std::nullopt, {});
  const std::string m = e.what();
  EXPECT_NE(m.find(std::string(399, 'd') + "..."), std::string::npos) << m;
  EXPECT_EQ(m.find('\x7f'), std::string::npos) << m;
  EXPECT_NE(m.find("invalid_request\\u007f"), std::string::npos) << m;
}

TEST(TokenError, RetryAfterBytesAreEscaped) {
  config::TenantOptions tenant;
  tenant.name = "t";
  const auto e = token_error(tenant, 429, "", std::string("7\xff\r\nX-Evil: 1"), {});
  EXPECT_EQ(e.kind(), ErrorKind::throttled);
  EXPECT_NE(std::string(e.what()).find("retry after 7\\xff X-Evil: 1 s"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace mdesync::auth
