// NO_PROXY rules and which requests a proxy carries: pure, no sockets.
#include "http/proxy.hpp"

#include <gtest/gtest.h>

namespace mdesync::http {
namespace {

bool bypassed(const std::string& rules, const std::string& url) {
  const auto parsed = Url::parse(url);
  return NoProxy::parse(rules).matches(parsed.host, parsed.port);
}

TEST(NoProxy, ANameMatchesItselfAndItsSubdomainsButNotLookalikes) {
  for (const std::string rule : {"example.com", ".example.com", "*.example.com", "EXAMPLE.com."}) {
    EXPECT_TRUE(bypassed(rule, "https://example.com/")) << rule;
    EXPECT_TRUE(bypassed(rule, "https://a.b.example.com/")) << rule;
    EXPECT_FALSE(bypassed(rule, "https://badexample.com/")) << rule;
    EXPECT_FALSE(bypassed(rule, "https://example.com.evil.net/")) << rule;
  }
}

TEST(NoProxy, ListsAreCommaOrSpaceSeparatedAndEmptyEntriesIgnored) {
  const std::string rules = " corp.local,, blob.core.windows.net\tlocalhost ";
  EXPECT_TRUE(bypassed(rules, "https://x.corp.local/"));
  EXPECT_TRUE(bypassed(rules, "https://acct.blob.core.windows.net/c/f?sig=x"));
  EXPECT_TRUE(bypassed(rules, "https://localhost:8443/"));
  EXPECT_FALSE(bypassed(rules, "https://api.securitycenter.microsoft.com/"));
  EXPECT_TRUE(NoProxy::parse(" , ").empty());
}

TEST(NoProxy, AStarAloneBypassesEverything) {
  EXPECT_TRUE(bypassed("*", "https://api.securitycenter.microsoft.com/"));
  EXPECT_EQ(NoProxy::parse("*").describe(), "*");
  // Not a wildcard inside a list entry.
  EXPECT_FALSE(bypassed("a*b.com", "https://axb.com/"));
}

TEST(NoProxy, AddressesAndCidrBlocksMatchLiteralAddressesOnly) {
  EXPECT_TRUE(bypassed("10.1.2.3", "https://10.1.2.3/"));
  EXPECT_FALSE(bypassed("10.1.2.3", "https://10.1.2.4/"));
  EXPECT_TRUE(bypassed("10.0.0.0/8", "https://10.200.1.1/"));
  EXPECT_FALSE(bypassed("10.0.0.0/8", "https://11.0.0.1/"));
  EXPECT_TRUE(bypassed("192.168.0.0/16", "https://[::ffff:192.168.4.5]/"));
  EXPECT_TRUE(bypassed("fd00::/8", "https://[fd12::1]/"));
  EXPECT_FALSE(bypassed("fd00::/8", "https://[fe80::1]/"));
  EXPECT_TRUE(bypassed("::1", "https://[::1]:8443/"));
  // Names are never resolved to match an address rule, nor addresses a name rule.
  EXPECT_FALSE(bypassed("127.0.0.0/8", "https://localhost/"));
  EXPECT_FALSE(bypassed("0.0.1", "https://10.0.0.1/"));
}

TEST(NoProxy, APortLimitsTheRule) {
  EXPECT_TRUE(bypassed("example.com:8443", "https://example.com:8443/"));
  EXPECT_FALSE(bypassed("example.com:8443", "https://example.com/"));
  EXPECT_TRUE(bypassed("example.com:443", "https://example.com/"));  // the default port counts
  EXPECT_TRUE(bypassed("[::1]:443", "https://[::1]/"));
  EXPECT_FALSE(bypassed("[::1]:443", "https://[::1]:444/"));
  EXPECT_TRUE(bypassed("10.0.0.0/8:443", "https://10.9.9.9/"));
}

// Whether each URL skips the proxy under its rules.
struct Case {
  const char* rules;
  const char* url;
  bool bypassed;
};

void expect(std::initializer_list<Case> cases) {
  for (const auto& c : cases) EXPECT_EQ(bypassed(c.rules, c.url), c.bypassed) << '"' << c.rules << "\" " << c.url;
}

TEST(NoProxy, AnAddressWithAPortAndANameWithATrailingDotMatch) {
  expect({{"10.1.2.3:8443", "https://10.1.2.3:8443/", true},
          {"10.1.2.3:8443", "https://10.1.2.3/", false},
          {"example.com", "https://api.example.com./", true},
          {"fd00::1", "https://[fd00::1]/", true}});  // unbracketed: no port, just the address
}

TEST(NoProxy, LoopbackIsProxiedUnlessListedAsCurlDoes) {
  // Nothing is exempt by default, loopback included; listed, each form matches
  // only itself (a name is never resolved).
  expect({{"", "https://127.0.0.1:8443/", false},
          {"", "https://localhost/", false},
          {"", "https://[::1]/", false},
          {"corp.example", "https://localhost/", false},
          {"localhost", "https://localhost/", true},
          {"localhost", "https://127.0.0.1/", false},
          {"127.0.0.1", "https://127.0.0.1:8443/", true},
          {"127.0.0.0/8", "https://127.0.0.2/", true}});
}

TEST(NoProxy, AStarInAListBypassesEverythingToo) {
  EXPECT_TRUE(bypassed("corp.example, *", "https://api.securitycenter.microsoft.com/"));
}

TEST(NoProxy, NonsenseEntriesAreIgnoredAndTheRestDescribed) {
  const auto rules = NoProxy::parse("host:notaport, 10.0.0.0/99, name/8, [::1, ok.example, 10.0.0.0/8, [::1]:443");
  EXPECT_EQ(rules.describe(), ".ok.example,10.0.0.0/8,[::1]:443");
}

TEST(Proxy, CarriesHttpsOnlyAndNotWhatNoProxyLists) {
  Proxy proxy;
  proxy.host = "proxy.corp";
  proxy.port = "3128";
  proxy.bypass = NoProxy::parse(".corp");
  EXPECT_TRUE(proxy.carries(Url::parse("https://api.securitycenter.microsoft.com/api")));
  EXPECT_FALSE(proxy.carries(Url::parse("https://pg.corp/")));
  EXPECT_FALSE(proxy.carries(Url::parse("http://127.0.0.1:8080/")));
  EXPECT_FALSE(proxy.carries(Url::parse("http://169.254.169.254/metadata/identity/oauth2/token")));
  EXPECT_EQ(proxy.authority(), "proxy.corp:3128");
  proxy.host = "fd00::1";
  EXPECT_EQ(proxy.authority(), "[fd00::1]:3128");
}

TEST(Proxy, BasicCredentialsAreBase64OfUserColonPassword) {
  EXPECT_EQ(basic_credentials("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_credentials("u", ""), "Basic dTo=");
}

}  // namespace
}  // namespace mdesync::http
