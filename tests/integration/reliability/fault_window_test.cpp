// The simulator's fault window and the fault kinds the reliability tests added
// (wrong content type, expired SAS), without a server: what each draw returns.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "faults.hpp"
#include "options.hpp"

namespace mdesync::fakeapi {
namespace {

std::vector<Fault> draws(FaultInjector& f, int n) {
  std::vector<Fault> out;
  for (int i = 0; i < n; ++i) out.push_back(f.draw());
  return out;
}

TEST(FaultWindow, TheFirstStartAfterRequestsPassThenFaultsBegin) {
  FaultSettings s;
  s.rate_5xx = 1;
  s.start_after = 2;
  FaultInjector f(s);
  EXPECT_EQ(draws(f, 4), (std::vector<Fault>{Fault::none, Fault::none, Fault::error_5xx, Fault::error_5xx}));
}

TEST(FaultWindow, CountEndsTheBurstAfterThatManyFaults) {
  FaultSettings s;
  s.rate_reset = 1;
  s.count = 3;
  FaultInjector f(s);
  EXPECT_EQ(draws(f, 5),
            (std::vector<Fault>{Fault::reset, Fault::reset, Fault::reset, Fault::none, Fault::none}));
}

TEST(FaultWindow, ExportFaultsShareTheWindowWithDataFaults) {
  FaultSettings s;
  s.rate_export_truncate = 1;
  s.rate_malformed = 1;
  s.count = 2;
  FaultInjector f(s);
  EXPECT_EQ(f.draw(), Fault::malformed);
  EXPECT_EQ(f.draw_export(), ExportFault::truncate);
  EXPECT_EQ(f.draw_export(), ExportFault::none);
  EXPECT_EQ(f.draw(), Fault::none);
}

TEST(FaultWindow, ChangingTheSettingsOpensANewWindow) {
  FaultSettings s;
  s.rate_reset = 1;
  s.count = 1;
  FaultInjector f(s);
  EXPECT_EQ(draws(f, 2), (std::vector<Fault>{Fault::reset, Fault::none}));
  f.update(s);
  EXPECT_EQ(draws(f, 2), (std::vector<Fault>{Fault::reset, Fault::none}));
}

TEST(FaultKinds, HtmlAnswersAreDrawnLikeTheOthers) {
  FaultSettings s;
  s.rate_html = 1;
  FaultInjector f(s);
  EXPECT_EQ(f.draw(), Fault::html);
  EXPECT_EQ(fault_name(Fault::html), "html");
}

TEST(FaultKinds, ExpiredSasIsDrawnOnlyWhenEnabledAndCountsAgainstTheWindow) {
  FaultSettings off;
  FaultInjector quiet(off);
  EXPECT_FALSE(quiet.draw_sas_expired());
  FaultSettings s;
  s.rate_sas_expired = 1;
  s.count = 2;
  FaultInjector f(s);
  EXPECT_TRUE(f.draw_sas_expired());
  EXPECT_TRUE(f.draw_sas_expired());
  EXPECT_FALSE(f.draw_sas_expired());
}

TEST(FaultKinds, NewKindsDoNotShiftTheSeededSequenceOfTheOlderOnes) {
  // Seeded tests elsewhere rely on which requests get a 5xx; a disabled new kind draws nothing.
  FaultSettings a;
  a.rate_5xx = 0.4;
  a.seed = 17;
  FaultSettings b = a;
  b.rate_html = 0;
  b.rate_sas_expired = 0;
  FaultInjector fa(a), fb(b);
  for (int i = 0; i < 50; ++i) {
    fb.draw_sas_expired();
    EXPECT_EQ(fa.draw(), fb.draw()) << "request " << i;
  }
}

TEST(FaultOptions, TheNewSettingsAreFlagsAndAdminParameters) {
  FaultSettings s;
  EXPECT_EQ(set_fault_option(s, "fault-html-rate", "0.5"), "");
  EXPECT_EQ(set_fault_option(s, "fault-sas-expired-rate", "1"), "");
  EXPECT_EQ(set_fault_option(s, "fault-start-after", "7"), "");
  EXPECT_EQ(set_fault_option(s, "fault-count", "3"), "");
  EXPECT_DOUBLE_EQ(s.rate_html, 0.5);
  EXPECT_DOUBLE_EQ(s.rate_sas_expired, 1);
  EXPECT_EQ(s.start_after, 7u);
  EXPECT_EQ(s.count, 3u);
  EXPECT_NE(set_fault_option(s, "fault-count", "-1"), "");
  EXPECT_NE(set_fault_option(s, "fault-html-rate", "2"), "");
  const std::string json = fault_settings_json(s);
  for (const char* key : {"\"fault-html-rate\":0.5", "\"fault-sas-expired-rate\":1", "\"fault-start-after\":7",
                          "\"fault-count\":3"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
  const std::string help = usage();
  for (const char* flag : {"--fault-html-rate", "--fault-sas-expired-rate", "--fault-start-after", "--fault-count"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
  const auto parsed = parse_options({"--fault-count", "4", "--fault-start-after=2"});
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->service.faults.count, 4u);
  EXPECT_EQ(parsed.options->service.faults.start_after, 2u);
}

}  // namespace
}  // namespace mdesync::fakeapi
