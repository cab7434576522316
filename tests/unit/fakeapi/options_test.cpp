// mde-fakeapi's command line.
#include <gtest/gtest.h>

#include "options.hpp"

namespace mdesync::fakeapi {
namespace {

OptionsOrError parse(std::vector<std::string> args) { return parse_options(args); }

TEST(Options, DefaultsMatchTheDocumentedService) {
  const auto r = parse({});
  ASSERT_TRUE(r.options) << r.error;
  const auto& s = r.options->service;
  EXPECT_EQ(r.options->listen_host, "127.0.0.1");
  EXPECT_EQ(r.options->port, 0);
  EXPECT_EQ(s.tenants.size(), 1u);
  EXPECT_EQ(s.expected_scope, "https://api.securitycenter.microsoft.com/.default");
  EXPECT_EQ(s.token_lifetime, std::chrono::seconds(3599));
  EXPECT_EQ(s.quotas.json_per_minute, 30u);
  EXPECT_EQ(s.quotas.json_per_hour, 1000u);
  EXPECT_EQ(s.quotas.export_per_minute, 5u);
  EXPECT_EQ(s.quotas.export_per_hour, 20u);
  EXPECT_EQ(s.faults.retry_after_s, 1);
  EXPECT_EQ(s.exports.layout, ExportLayout::flat);
  EXPECT_DOUBLE_EQ(s.faults.rate_export_empty, 0);
}

TEST(Options, ExportLayoutAndEmptyFileFault) {
  const auto r = parse({"--export-layout", "rbac", "--fault-export-empty-rate=0.5", "--fault-count", "3"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->service.exports.layout, ExportLayout::rbac);
  EXPECT_DOUBLE_EQ(r.options->service.faults.rate_export_empty, 0.5);
  EXPECT_EQ(r.options->service.faults.count, 3u);
  EXPECT_EQ(parse({"--export-layout=flat"}).options->service.exports.layout, ExportLayout::flat);
}

TEST(Options, ParsesBothSpellingsRepeatedTenantsAndFaults) {
  const auto r = parse({"--listen", "127.0.0.1:8443", "--tls", "--tenant-id=a", "--tenant-id", "b", "--devices", "5",
                        "--seed=9", "--fault-5xx-rate", "0.25", "--fault-retry-after=3", "--token-expire-after-pages",
                        "4", "--json-per-minute", "10", "--gzip", "--no-permission", "--export-files", "7"});
  ASSERT_TRUE(r.options) << r.error;
  const auto& o = *r.options;
  EXPECT_EQ(o.port, 8443);
  EXPECT_TRUE(o.tls);
  EXPECT_TRUE(o.service.tls);
  EXPECT_EQ(o.service.tenants, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(o.service.generator.devices, 5u);
  EXPECT_EQ(o.service.generator.seed, 9u);
  EXPECT_DOUBLE_EQ(o.service.faults.rate_5xx, 0.25);
  EXPECT_EQ(o.service.faults.retry_after_s, 3);
  EXPECT_EQ(o.service.faults.token_expire_after_pages, 4u);
  EXPECT_EQ(o.service.quotas.json_per_minute, 10u);
  EXPECT_TRUE(o.service.gzip);
  EXPECT_TRUE(o.service.no_permission);
  EXPECT_EQ(o.service.exports.files, 7u);
}

TEST(Options, RejectsWhatItCannotHonour) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--bogus"},
           {"--devices"},
           {"--devices", "many"},
           {"--fault-5xx-rate", "1.5"},
           {"--listen", "nocolon"},
           {"--cert", "c.pem"},
           {"--ca-out", "ca.pem"},
           {"--gzip=yes"},
           {"positional"},
           {"--export-files", "0"},
           {"--next-link-base", "elsewhere:80"},
           {"--export-layout", "tree"},
           {"--fault-export-empty-rate", "2"},
       }) {
    const auto r = parse(args);
    EXPECT_FALSE(r.options) << args.front();
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(Options, UsageNamesEveryFlag) {
  const std::string u = usage();
  for (const char* flag :
       {"--listen", "--port-file", "--tls", "--cert", "--key", "--ca-out", "--tenant-id", "--client-id",
        "--client-secret-file", "--client-cert", "--expected-scope", "--token-lifetime", "--no-permission",
        "--devices", "--seed", "--json-per-minute", "--json-per-hour", "--export-per-minute", "--export-per-hour",
        "--fault-5xx-rate", "--fault-429-rate", "--fault-retry-after", "--fault-reset-rate", "--fault-truncate-rate",
        "--fault-slow-rate", "--fault-slow-ms", "--fault-malformed-rate", "--token-expire-after-pages",
        "--fault-export-truncate-rate", "--fault-export-reset-rate", "--fault-seed", "--export-files", "--next-link-base",
        "--export-crlf", "--gzip", "--log-requests", "--threads", "--export-layout", "--fault-export-empty-rate",
        "--fault-sas-expired-rate", "/_admin/export-layout", "on_export=K", "repeat=N"})
    EXPECT_NE(u.find(flag), std::string::npos) << flag;
}

}  // namespace
}  // namespace mdesync::fakeapi
