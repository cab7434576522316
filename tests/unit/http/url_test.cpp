#include "http/url.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

namespace mdesync::http {
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
                          "http://localhost./", "http://[::1]/", "http://[0:0:0:0:0:0:0:1]/",
                          "http://[::ffff:127.0.0.1]/"}) {
    EXPECT_TRUE(Url::parse(yes).is_loopback()) << yes;
  }
  for (const char* no : {"http://128.0.0.1/", "http://10.0.0.1/", "http://0.0.0.0/", "http://[::]/",
                         "http://[::2]/", "http://localhost.example.com/", "http://mylocalhost/",
                         "http://127.0.0.1.nip.io/", "http://[::ffff:10.0.0.1]/", "http://127.1/"}) {
    EXPECT_FALSE(Url::parse(no).is_loopback()) << no;
  }
}

TEST(Url, IpLiterals) {
  EXPECT_TRUE(Url::parse("https://127.0.0.1/").is_ip_literal());
  EXPECT_TRUE(Url::parse("https://[::1]/").is_ip_literal());
  EXPECT_FALSE(Url::parse("https://localhost/").is_ip_literal());
  EXPECT_FALSE(Url::parse("https://1.2.3.4.example/").is_ip_literal());
}

}  // namespace
}  // namespace mdesync::http
