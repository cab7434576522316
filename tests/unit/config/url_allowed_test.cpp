// Which URLs the daemon may talk to: https anywhere, http only to loopback.
#include <gtest/gtest.h>

#include "config/config.hpp"

namespace mdesync::config {
namespace {

struct UrlCase {
  const char* url;
  bool allowed;
  const char* why;  // expected reason when refused
};

constexpr const char* loopback_only = "http:// is only allowed to a loopback host (127.0.0.0/8, ::1, localhost)";
constexpr const char* bad_scheme = "must start with https:// (or http:// to a loopback host)";
constexpr const char* bad_host = "has no valid host[:port]";

class UrlAllowed : public ::testing::TestWithParam<UrlCase> {};

TEST_P(UrlAllowed, Decides) {
  const auto& c = GetParam();
  std::string why = "unchanged";
  EXPECT_EQ(url_allowed(c.url, &why), c.allowed) << c.url;
  if (!c.allowed) {
    EXPECT_EQ(why, c.why) << c.url;
  }
  EXPECT_EQ(url_allowed(c.url), c.allowed) << "without why: " << c.url;
}

INSTANTIATE_TEST_SUITE_P(
    Table, UrlAllowed,
    ::testing::Values(
        UrlCase{"https://api.securitycenter.microsoft.com", true, ""},
        UrlCase{"https://api.example.com:8443/path?q=1", true, ""}, UrlCase{"https://10.0.0.1/", true, ""},
        UrlCase{"https://[2001:db8::1]:443/x", true, ""}, UrlCase{"http://127.0.0.1", true, ""},
        UrlCase{"http://127.0.0.5:8080/api", true, ""}, UrlCase{"http://127.255.255.254", true, ""},
        UrlCase{"http://[::1]:8080", true, ""}, UrlCase{"http://[0:0:0:0:0:0:0:1]/", true, ""},
        UrlCase{"http://localhost", true, ""}, UrlCase{"http://LocalHost:9000/token", true, ""},
        UrlCase{"http://example.com", false, loopback_only}, UrlCase{"http://128.0.0.1", false, loopback_only},
        UrlCase{"http://10.0.0.1:8080", false, loopback_only}, UrlCase{"http://[::2]/", false, loopback_only},
        // IPv4 written as IPv6: the HTTP client would refuse it at connect time
        // (core/url.hpp says why), so the config refuses it up front.
        UrlCase{"http://[::ffff:127.0.0.1]/", false, loopback_only},
        UrlCase{"http://localhost./", true, ""},  // the fully qualified name
        UrlCase{"http://127.1/", false, loopback_only},  // not the dotted-quad form: a name, not loopback
        UrlCase{"http://localhost.example.com", false, loopback_only},
        UrlCase{"http://127.0.0.1.nip.io", false, loopback_only},
        UrlCase{"http://127.0.0.1@example.com/", false, "must not contain user info (user@host)"},
        UrlCase{"https://user:pass@example.com/", false, "must not contain user info (user@host)"},
        UrlCase{"ftp://example.com", false, bad_scheme}, UrlCase{"HTTPS://example.com", true, ""},  // schemes are case-insensitive
        UrlCase{"HTTP://example.com", false, loopback_only}, UrlCase{"Http://127.0.0.1", true, ""},
        UrlCase{"example.com", false, bad_scheme}, UrlCase{"", false, bad_scheme}, UrlCase{"https://", false, bad_host},
        UrlCase{"https:///path", false, bad_host}, UrlCase{"https://example.com:0/", false, bad_host},
        UrlCase{"https://example.com:99999/", false, bad_host}, UrlCase{"https://example.com:/", true, ""},  // empty port: the default
        UrlCase{"https://exa%6Dple.com/", false, bad_host}, UrlCase{"https://[::1]:8443x/", false, bad_host},
        UrlCase{"http://[::1/", false, bad_host},
        UrlCase{"https://exa mple.com", false, "must not contain whitespace or control characters"}));

}  // namespace
}  // namespace mdesync::config
