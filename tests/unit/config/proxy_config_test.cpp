// http.proxy, its password keys, http.no_proxy, and the environment's
// HTTPS_PROXY / NO_PROXY when the keys are absent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "config_test_util.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using test::problems_of;
using test::ScopedEnv;

// Every proxy variable unset, whatever the machine running the tests has.
class ProxyConfig : public ::testing::Test {
 protected:
  ScopedEnv a_{"https_proxy", std::nullopt}, b_{"HTTPS_PROXY", std::nullopt};
  ScopedEnv c_{"no_proxy", std::nullopt}, d_{"NO_PROXY", std::nullopt};

  static Config load(const std::string& http_lines) {
    return load_string(test::base + "http:\n" + http_lines, "config.yaml");  // http: is line 8
  }
};

TEST_F(ProxyConfig, NoProxyAnywhereMeansDirect) {
  const auto c = load_string(test::base, "config.yaml");
  EXPECT_FALSE(c.http.proxy.enabled());
  EXPECT_EQ(c.http.proxy.source, "");
  EXPECT_EQ(c.http.proxy.display(), "none");
}

TEST_F(ProxyConfig, AProxyWithUserAndPasswordFile) {
  mdesync::testing::TempDir dir;
  const auto c = load("  proxy: http://svc-mdesync@Proxy.Corp.example:3128\n"
                      "  proxy_password_file: /run/credentials/mdesync/proxy\n"
                      "  no_proxy: .corp.example, 10.0.0.0/8\n");
  const auto& p = c.http.proxy;
  EXPECT_EQ(p.host, "proxy.corp.example");
  EXPECT_EQ(p.port, 3128);
  EXPECT_EQ(p.user, "svc-mdesync");
  EXPECT_EQ(p.password_file, "/run/credentials/mdesync/proxy");
  EXPECT_EQ(p.source, "http.proxy");
  EXPECT_EQ(p.no_proxy, ".corp.example, 10.0.0.0/8");
  EXPECT_EQ(p.no_proxy_source, "http.no_proxy");
  EXPECT_EQ(p.display(), "http://svc-mdesync@proxy.corp.example:3128");
}

TEST_F(ProxyConfig, AnInlinePasswordIsRefusedWithoutEchoingIt) {
  const auto problems = problems_of(test::base + "http:\n  proxy: http://svc:Zz-pw-zZ@proxy:3128\n");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("config.yaml:9: http.proxy: inline passwords are not accepted"));
  EXPECT_THAT(problems[0], ::testing::Not(HasSubstr("Zz-pw-zZ")));
}

TEST_F(ProxyConfig, OnlyPlainHttpProxiesWithAValidHostAndPort) {
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: https://proxy:3128\n"),
              ElementsAre(HasSubstr("http.proxy: https:// proxies (TLS to the proxy) are not supported")));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: socks5://proxy:1080\n"),
              ElementsAre(HasSubstr("must be an HTTP proxy")));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: proxy:3128\n"),
              ElementsAre("config.yaml:9: http.proxy: must look like http://[user@]host:port, got proxy:3128 (or none)"));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: http://proxy:0\n"), ElementsAre(HasSubstr("invalid port")));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: http://proxy:3128/path\n"),
              ElementsAre(HasSubstr("without a path")));
  EXPECT_EQ(load("  proxy: http://proxy/\n").http.proxy.port, 80);
  EXPECT_EQ(load("  proxy: http://[fd00::1]:3128\n").http.proxy.display(), "http://[fd00::1]:3128");
}

TEST_F(ProxyConfig, UserAndPasswordGoTogether) {
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: http://svc@proxy:3128\n"),
              ElementsAre("config.yaml:9: http.proxy: names user svc but no password: give http.proxy_password_file "
                          "or http.proxy_password_env"));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: http://proxy:3128\n  proxy_password_env: PROXY_PW\n"),
              ElementsAre(HasSubstr("http.proxy: names no user, but a proxy password is given")));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy_password_env: PROXY_PW\n"),
              ElementsAre("config.yaml:9: http.proxy_password_env: needs http.proxy with the user "
                          "(http://USER@host:port)"));
  EXPECT_THAT(problems_of(test::base +
                          "http:\n  proxy: http://svc@proxy:3128\n  proxy_password_env: A\n  proxy_password_file: /f\n"),
              ElementsAre(HasSubstr("give either proxy_password_file or proxy_password_env, not both")));
  EXPECT_THAT(problems_of(test::base + "http:\n  proxy: http://svc@proxy:3128\n  proxy_password_env: 1BAD\n"),
              ElementsAre(HasSubstr("must be an environment variable name")));
}

TEST_F(ProxyConfig, TheEnvironmentIsUsedWhenTheKeyIsAbsentLowerCaseFirst) {
  ScopedEnv upper("HTTPS_PROXY", "http://upper:1");
  ScopedEnv lower("https_proxy", "http://svc:p%40ss@lower.corp:8080/");
  ScopedEnv no_proxy("NO_PROXY", ".corp");
  const auto c = load_string(test::base, "config.yaml");
  const auto& p = c.http.proxy;
  EXPECT_EQ(p.source, "https_proxy");
  EXPECT_EQ(p.host, "lower.corp");
  EXPECT_EQ(p.port, 8080);
  EXPECT_EQ(p.user, "svc");
  EXPECT_EQ(p.password_from_url, "p@ss");  // percent-decoded; the environment may hold a password
  EXPECT_EQ(p.display(), "http://svc@lower.corp:8080");
  EXPECT_EQ(p.no_proxy, ".corp");
  EXPECT_EQ(p.no_proxy_source, "NO_PROXY");
  EXPECT_EQ(read_proxy_password(p), "p@ss");
}

TEST_F(ProxyConfig, LowerCaseNoProxyWinsAndAnEmptyOneCountsAsUnset) {
  ScopedEnv env("HTTPS_PROXY", "http://proxy.corp:3128");
  {
    ScopedEnv lower("no_proxy", ".lower.example");
    ScopedEnv upper("NO_PROXY", ".upper.example");
    const auto p = load_string(test::base, "config.yaml").http.proxy;
    EXPECT_EQ(p.no_proxy, ".lower.example");
    EXPECT_EQ(p.no_proxy_source, "no_proxy");
  }
  ScopedEnv lower("no_proxy", "");
  ScopedEnv upper("NO_PROXY", ".upper.example");
  const auto p = load_string(test::base, "config.yaml").http.proxy;
  EXPECT_EQ(p.no_proxy, ".upper.example");
  EXPECT_EQ(p.no_proxy_source, "NO_PROXY");
}

TEST_F(ProxyConfig, AnEnvironmentProxyWithoutSchemeIsHttp) {
  ScopedEnv env("HTTPS_PROXY", "proxy.corp:3128");
  const auto c = load_string(test::base, "config.yaml");
  EXPECT_EQ(c.http.proxy.display(), "http://proxy.corp:3128");
  EXPECT_EQ(c.http.proxy.source, "HTTPS_PROXY");
}

TEST_F(ProxyConfig, TheKeyWinsOverTheEnvironmentAndNoneIgnoresIt) {
  ScopedEnv env("HTTPS_PROXY", "http://env-proxy:3128");
  ScopedEnv no_proxy("no_proxy", "from-env");
  EXPECT_EQ(load("  proxy: http://cfg-proxy:3128\n").http.proxy.host, "cfg-proxy");
  const auto none = load("  proxy: none\n  no_proxy: cfg\n").http.proxy;
  EXPECT_FALSE(none.enabled());
  EXPECT_EQ(none.ignored, "HTTPS_PROXY");
  EXPECT_EQ(none.no_proxy, "cfg");
  EXPECT_EQ(load("  proxy: http://cfg-proxy:3128\n").http.proxy.no_proxy, "from-env");
}

TEST_F(ProxyConfig, ABrokenEnvironmentProxyIsAProblemThatNeverShowsItsValue) {
  ScopedEnv env("HTTPS_PROXY", "https://svc:Zz-pw-zZ@proxy:3128");
  const auto problems = problems_of(test::base);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("http.proxy: not set, and HTTPS_PROXY in the environment https:// proxies"));
  EXPECT_THAT(problems[0], HasSubstr("http.proxy (none ignores it)"));
  EXPECT_THAT(problems[0], ::testing::Not(HasSubstr("Zz-pw-zZ")));
  EXPECT_TRUE(problems_of(test::base + "http:\n  proxy: none\n").empty());
}

TEST_F(ProxyConfig, ThePasswordIsReadFromItsFileOrVariableWhenNeeded) {
  mdesync::testing::TempDir dir;
  const auto file = dir.write("proxy", "file-pw\n");
  ::chmod(file.c_str(), 0600);
  ProxyOptions p;
  p.host = "proxy";
  p.port = 3128;
  p.user = "svc";
  p.password_file = file.string();
  EXPECT_EQ(read_proxy_password(p), "file-pw");
  ::chmod(file.c_str(), 0644);
  EXPECT_THROW(read_proxy_password(p), ConfigError);  // readable by others: never used
  p.password_file.clear();
  p.password_env = "MDESYNC_TEST_PROXY_PW";
  {
    ScopedEnv pw("MDESYNC_TEST_PROXY_PW", "env-pw");
    EXPECT_EQ(read_proxy_password(p), "env-pw");
  }
  try {
    read_proxy_password(p);
    ADD_FAILURE() << "an unset variable must fail";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("http.proxy_password_env: environment variable MDESYNC_TEST_PROXY_PW"));
  }
  p.user.clear();
  EXPECT_EQ(read_proxy_password(p), "");
}

}  // namespace
}  // namespace mdesync::config
