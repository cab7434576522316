#include "metrics/names.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mdesync::metrics {
namespace {

TEST(Names, DescribeAllDeclaresEveryFamilyWithItsType) {
  Registry r;
  describe_all(r);
  const std::string text = r.render();
  const std::pair<std::string_view, const char*> expected[] = {
      {names::rows_received, "counter"},
      {names::rows_upserted, "counter"},
      {names::rows_removed, "counter"},
      {names::rows_rejected, "counter"},
      {names::api_requests, "counter"},
      {names::api_throttled, "counter"},
      {names::quota_remaining, "gauge"},
      {names::run_duration_seconds, "gauge"},
      {names::runs, "counter"},
      {names::last_success_timestamp_seconds, "gauge"},
      {names::up, "gauge"},
  };
  for (const auto& [name, type] : expected) {
    const std::string n(name);
    EXPECT_NE(text.find("# HELP " + n + " "), std::string::npos) << n;
    EXPECT_NE(text.find("# TYPE " + n + " " + type + "\n"), std::string::npos) << n;
  }
  EXPECT_NE(text.find("\nmdesync_up 1\n"), std::string::npos);
  EXPECT_EQ(r.value(names::up, {}), 1.0);
}

TEST(Names, FollowTheNamingConvention) {
  // mdesync_<name>_<unit>[_total]: counters end in _total, gauges never do.
  const std::string_view counters[] = {names::rows_received, names::rows_upserted, names::rows_removed,
                                       names::rows_rejected, names::api_requests,  names::api_throttled,
                                       names::runs};
  const std::string_view gauges[] = {names::quota_remaining, names::run_duration_seconds,
                                     names::last_success_timestamp_seconds, names::up};
  for (auto n : counters) {
    EXPECT_TRUE(n.starts_with("mdesync_")) << n;
    EXPECT_TRUE(n.ends_with("_total")) << n;
  }
  for (auto n : gauges) {
    EXPECT_TRUE(n.starts_with("mdesync_")) << n;
    EXPECT_FALSE(n.ends_with("_total")) << n;
  }
}

TEST(Names, UpdatesThroughTheConstantsLandInTheDescribedFamilies) {
  Registry r;
  describe_all(r);
  r.add(names::rows_upserted, {{std::string(label::tenant), "contoso"}, {std::string(label::dataset), "cpe"}}, 10);
  EXPECT_THROW(r.set(names::rows_upserted, {}, 1), std::invalid_argument);  // described as a counter
  EXPECT_NE(r.render().find("mdesync_rows_upserted_total{dataset=\"cpe\",tenant=\"contoso\"} 10\n"),
            std::string::npos);
}

}  // namespace
}  // namespace mdesync::metrics
