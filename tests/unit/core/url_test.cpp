#include "core/url.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace mdesync {
namespace {

struct Good {
  const char* text;
  const char* scheme;
  const char* host;
  const char* port;
  const char* target;
  const char* origin;
};

TEST(Url, ParsesAbsoluteUrls) {
  const Good cases[] = {
      {"https://api.securitycenter.microsoft.com/api/machines/SoftwareInventoryByMachine?pageSize=50000",
       "https", "api.securitycenter.microsoft.com", "443",
       "/api/machines/SoftwareInventoryByMachine?pageSize=50000", "https://api.securitycenter.microsoft.com"},
      {"https://host", "https", "host", "443", "/", "https://host"},
      {"https://host?x=1", "https", "host", "443", "/?x=1", "https://host"},
      {"HTTPS://Login.MicrosoftOnline.COM/t/oauth2/v2.0/token", "https", "login.microsoftonline.com", "443",
       "/t/oauth2/v2.0/token", "https://login.microsoftonline.com"},
      {"https://host:443/a", "https", "host", "443", "/a", "https://host"},
      {"https://host:/a", "https", "host", "443", "/a", "https://host"},
      {"https://host:08443/a#frag", "https", "host", "8443", "/a", "https://host:8443"},
      {"http://127.0.0.1:8080/x", "http", "127.0.0.1", "8080", "/x", "http://127.0.0.1:8080"},
      {"http://localhost", "http", "localhost", "80", "/", "http://localhost"},
      {"https://[::1]:9443/p?q", "https", "::1", "9443", "/p?q", "https://[::1]:9443"},
      {"https://[2001:DB8::1]/", "https", "2001:db8::1", "443", "/", "https://[2001:db8::1]"},
      {"https://blob.core.windows.net/c/f.json.gz?sv=2020&sig=abc%2B", "https", "blob.core.windows.net", "443",
       "/c/f.json.gz?sv=2020&sig=abc%2B", "https://blob.core.windows.net"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const auto u = Url::parse(c.text);
    EXPECT_EQ(u.scheme, c.scheme);
    EXPECT_EQ(u.host, c.host);
    EXPECT_EQ(u.port, c.port);
    EXPECT_EQ(u.target, c.target);
    EXPECT_EQ(u.origin(), c.origin);
  }
}

TEST(Url, AuthorityIsTheHostHeader) {
  EXPECT_EQ(Url::parse("https://h/").authority(), "h");
  EXPECT_EQ(Url::parse("https://h:8443/").authority(), "h:8443");
  EXPECT_EQ(Url::parse("http://h:443/").authority(), "h:443");
  EXPECT_EQ(Url::parse("https://[::1]/").authority(), "[::1]");
  EXPECT_EQ(Url::parse("https://[::1]:1/").authority(), "[::1]:1");
}

TEST(Url, MalformedUrlsAreConfigErrors) {
  for (const char* bad : {"", "host/path", "://host", "ftp://host/", "https://", "https:///path", "https://:443/",
                          "https://host:0/", "https://host:65536/", "https://host:12a/", "https://host:123456/",
                          "https://ho st/", "https://host/pa th", "https://host/\x01", "https://[::1/",
                          "https://[not-v6]/", "https://[::1]x/", "https://::1/", "https://h%41st/",
                          "https://hôst/"}) {
    SCOPED_TRACE(bad);
    try {
      Url::parse(bad);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config);
    }
  }
}

TEST(Url, ErrorsNeverShowQueryStringsOrUserInfo) {
  try {
    Url::parse("https://bad host/f?sig=SECRETSIG");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRETSIG"), std::string::npos) << e.what();
  }
  try {
    Url::parse("https://user:PASSWORD@host/");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config);
    EXPECT_EQ(std::string(e.what()).find("PASSWORD"), std::string::npos) << e.what();
  }
}

TEST(Url, LoopbackHosts) {
  for (const char* yes : {"http://127.0.0.1/", "http://127.255.0.9:81/", "http://localhost/", "http://LOCALHOST/",
                          "http://localhost./", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/"}) {
    EXPECT_TRUE(Url::parse(yes).is_loopback()) << yes;
  }
  for (const char* no : {"http://128.0.0.1/", "http://10.0.0.1/", "http://0.0.0.0/", "http://[::]/",
                         "http://[::2]/", "http://localhost.example.com/", "http://mylocalhost/",
                         "http://127.0.0.1.nip.io/", "http://[::ffff:10.0.0.1]/", "http://127.1/",
                         "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/"}) {
    EXPECT_FALSE(Url::parse(no).is_loopback()) << no;
  }
}

// The HTTP client refuses a v4-mapped address at connect time (Asio's
// is_loopback knows only ::1), so the policy refuses it when parsing too;
// config::url_allowed asks the same question (tests/unit/config/url_allowed_test.cpp).
TEST(Url, V4MappedLoopbackIsNotLoopback) {
  const auto u = Url::parse("http://[::ffff:127.0.0.1]:8080/token");
  EXPECT_EQ(u.host, "::ffff:127.0.0.1");
  EXPECT_TRUE(u.is_ip_literal());
  EXPECT_FALSE(u.is_loopback());
}

TEST(Url, IpLiterals) {
  EXPECT_TRUE(Url::parse("https://127.0.0.1/").is_ip_literal());
  EXPECT_TRUE(Url::parse("https://[::1]/").is_ip_literal());
  EXPECT_FALSE(Url::parse("https://localhost/").is_ip_literal());
  EXPECT_FALSE(Url::parse("https://1.2.3.4.example/").is_ip_literal());
}

TEST(Url, Ipv6Literals) {
  const auto u = Url::parse("https://[FE80::1:2]:8443");
  EXPECT_EQ(u.host, "fe80::1:2");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.origin(), "https://[fe80::1:2]:8443");
  EXPECT_EQ(Url::parse("https://[::ffff:10.0.0.1]/").host, "::ffff:10.0.0.1");
  EXPECT_FALSE(Url::try_parse("https://[fe80::1%25eth0]/"));  // zone identifiers: not ours to route
  EXPECT_FALSE(Url::try_parse("https://[127.0.0.1]/"));
  EXPECT_FALSE(Url::try_parse("https://[]/"));
}

TEST(Url, ProblemsNameWhatIsWrong) {
  const std::pair<const char*, UrlProblem> cases[] = {
      {"https://ho st/", UrlProblem::control_character}, {"https://h\x7f/", UrlProblem::control_character},
      {"host/path", UrlProblem::not_absolute},          {"://host", UrlProblem::not_absolute},
      {"ftp://host/", UrlProblem::scheme},              {"https://u@host/", UrlProblem::user_info},
      {"https://", UrlProblem::host},                   {"https://[::1/", UrlProblem::host},
      {"https://host:0/", UrlProblem::port},            {"https://host:1:2/", UrlProblem::port},
      {"https://host:000443/", UrlProblem::port},       {"https://h%41st/", UrlProblem::host},
  };
  for (const auto& [text, expected] : cases) {
    UrlProblem problem{};
    EXPECT_FALSE(Url::try_parse(text, &problem)) << text;
    EXPECT_EQ(problem, expected) << text;
  }
}

TEST(Url, UserInfoIsRefusedEvenWhenItLooksLikeTheHost) {
  // Would go to example.com, not to the loopback address before '@'.
  UrlProblem problem{};
  EXPECT_FALSE(Url::try_parse("http://127.0.0.1@example.com/", &problem));
  EXPECT_EQ(problem, UrlProblem::user_info);
  EXPECT_FALSE(Url::try_parse("http://127.0.0.1:80@example.com/"));
}

TEST(Url, PathAndQueryStayAsWritten) {
  // Percent-encoded bytes in the target are the sender's business (SAS signatures
  // are encoded by the server that made them); they are neither decoded nor re-encoded.
  EXPECT_EQ(Url::parse("https://h/a%2Fb?sig=x%2By%3D&z=%20").target, "/a%2Fb?sig=x%2By%3D&z=%20");
  EXPECT_EQ(Url::parse("https://h#f?x").target, "/");
}

TEST(Authority, HostAndOptionalPort) {
  const auto a = parse_authority("Example.COM:9464");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com");
  EXPECT_EQ(a->port, 9464);
  EXPECT_FALSE(a->ipv6);
  const auto v6 = parse_authority("[::]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::");
  EXPECT_TRUE(v6->ipv6);
  EXPECT_EQ(v6->port, 80);
  EXPECT_EQ(parse_authority("h")->port, std::nullopt);
  EXPECT_EQ(parse_authority("h:")->port, std::nullopt);  // empty port: the default (RFC 3986 3.2.3)
  for (const char* bad : {"", ":80", "h:65536", "h:-1", "h:+1", "[::1]x", "::1", "h h:1"}) {
    EXPECT_FALSE(parse_authority(bad)) << bad;
  }
  // inet_pton would stop at the NUL and read "::1".
  EXPECT_FALSE(parse_authority(std::string_view("[::1\0x]:1", 9)));
  EXPECT_FALSE(parse_authority(std::string_view("[::1\0]:1", 8)));
  EXPECT_FALSE(parse_authority(std::string(300, 'a')));
}

TEST(PercentEncode, UnreservedCharactersPassOthersAreEncoded) {
  EXPECT_EQ(percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(percent_encode("&=+ %"), "%26%3D%2B%20%25");
  EXPECT_EQ(percent_encode("https://api.securitycenter.microsoft.com/.default"),
            "https%3A%2F%2Fapi.securitycenter.microsoft.com%2F.default");
  EXPECT_EQ(percent_encode("2021-05-19T18:35:49.924Z"), "2021-05-19T18%3A35%3A49.924Z");
  EXPECT_EQ(percent_encode("\xc3\xa9\n"), "%C3%A9%0A");
  EXPECT_EQ(percent_encode(std::string_view("\0\xff", 2)), "%00%FF");
  EXPECT_EQ(percent_encode(""), "");
}

}  // namespace
}  // namespace mdesync
