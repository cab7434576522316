#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mdesync::metrics {
namespace {

TEST(Registry, CounterAccumulatesPerLabelSet) {
  Registry r;
  r.add("mdesync_x_total", {{"tenant", "a"}}, 2);
  r.add("mdesync_x_total", {{"tenant", "a"}}, 3);
  r.add("mdesync_x_total", {{"tenant", "b"}}, 1);
  EXPECT_EQ(r.value("mdesync_x_total", {{"tenant", "a"}}), 5.0);
  EXPECT_EQ(r.value("mdesync_x_total", {{"tenant", "b"}}), 1.0);
  EXPECT_EQ(r.value("mdesync_x_total", {{"tenant", "c"}}), std::nullopt);
  EXPECT_EQ(r.value("mdesync_other_total", {}), std::nullopt);
}

TEST(Registry, GaugeKeepsTheLastValue) {
  Registry r;
  r.describe("mdesync_g", "gauge", "g");
  r.set("mdesync_g", {}, 7);
  r.set("mdesync_g", {}, -2.5);
  EXPECT_EQ(r.value("mdesync_g", {}), -2.5);
  r.add("mdesync_g", {}, -0.5);  // gauges may go down through add() too
  EXPECT_EQ(r.value("mdesync_g", {}), -3.0);
}

TEST(Registry, LabelOrderDoesNotMakeANewSeries) {
  Registry r;
  r.add("mdesync_x_total", {{"tenant", "a"}, {"dataset", "cpe"}}, 1);
  r.add("mdesync_x_total", {{"dataset", "cpe"}, {"tenant", "a"}}, 1);
  EXPECT_EQ(r.value("mdesync_x_total", {{"tenant", "a"}, {"dataset", "cpe"}}), 2.0);
  EXPECT_EQ(r.render(), "# TYPE mdesync_x_total counter\nmdesync_x_total{dataset=\"cpe\",tenant=\"a\"} 2\n");
}

TEST(Registry, CounterRejectsDecreaseAndSet) {
  Registry r;
  r.describe("mdesync_x_total", "counter", "x");
  EXPECT_THROW(r.add("mdesync_x_total", {}, -1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync_x_total", {}, std::nan("")), std::invalid_argument);
  EXPECT_THROW(r.set("mdesync_x_total", {}, 3), std::invalid_argument);
  EXPECT_EQ(r.value("mdesync_x_total", {}), std::nullopt);
}

TEST(Registry, TypeCannotChange) {
  Registry r;
  r.describe("mdesync_x", "gauge", "x");
  EXPECT_THROW(r.describe("mdesync_x", "counter", "x"), std::invalid_argument);
  r.add("mdesync_y_total", {}, 1);  // implied counter
  EXPECT_THROW(r.describe("mdesync_y_total", "gauge", "y"), std::invalid_argument);
  EXPECT_NO_THROW(r.describe("mdesync_y_total", "counter", "now with help"));
  EXPECT_THROW(r.describe("mdesync_z", "histogram", "z"), std::invalid_argument);
}

TEST(Registry, InvalidNamesAreRejected) {
  Registry r;
  EXPECT_THROW(r.add("", {}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("1abc", {}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync-x", {}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync_x", {{"bad-label", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync_x", {{"__reserved", "v"}}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync_x", {{"a", "1"}, {"a", "2"}}, 1), std::invalid_argument);
  EXPECT_THROW(r.add("mdesync_x", {{"", "v"}}, 1), std::invalid_argument);
  EXPECT_NO_THROW(r.add("mdesync:rule_x", {{"_a1", "v"}}, 1));
  EXPECT_EQ(r.render(), "# TYPE mdesync:rule_x counter\nmdesync:rule_x{_a1=\"v\"} 1\n");
}

TEST(Registry, RenderIsSortedWithHelpAndType) {
  Registry r;
  r.describe("mdesync_b_total", "counter", "B things.");
  r.describe("mdesync_a", "gauge", "A level.");
  r.describe("mdesync_empty", "gauge", "Never set.");
  r.add("mdesync_b_total", {{"tenant", "zeta"}}, 1);
  r.add("mdesync_b_total", {{"tenant", "alpha"}}, 2);
  r.set("mdesync_a", {}, 0.25);
  EXPECT_EQ(r.render(),
            "# HELP mdesync_a A level.\n"
            "# TYPE mdesync_a gauge\n"
            "mdesync_a 0.25\n"
            "# HELP mdesync_b_total B things.\n"
            "# TYPE mdesync_b_total counter\n"
            "mdesync_b_total{tenant=\"alpha\"} 2\n"
            "mdesync_b_total{tenant=\"zeta\"} 1\n"
            "# HELP mdesync_empty Never set.\n"
            "# TYPE mdesync_empty gauge\n");
}

TEST(Registry, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.describe("mdesync_x", "gauge", "back\\slash \"quoted\"\nsecond line");
  r.set("mdesync_x", {{"v", "a\\b\"c\nd"}}, 1);
  EXPECT_EQ(r.render(),
            "# HELP mdesync_x back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE mdesync_x gauge\n"
            "mdesync_x{v=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(Registry, EscapersHandleEachSpecialCharacter) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("\\"), "\\\\");
  EXPECT_EQ(escape_label_value("\""), "\\\"");
  EXPECT_EQ(escape_label_value("\n"), "\\n");
  EXPECT_EQ(escape_help("\""), "\"");  // HELP does not escape quotes
  EXPECT_EQ(escape_help("\\\n"), "\\\\\\n");
}

TEST(Registry, ValuesUseThePrometheusSpelling) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(42), "42");
  EXPECT_EQ(format_value(-1.5), "-1.5");
  EXPECT_EQ(format_value(1751364000), "1751364000");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(format_value(1e300)), 1e300);
}

TEST(Registry, ConcurrentUpdatesAreNotLost) {
  Registry r;
  constexpr int threads = 4, per_thread = 10000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&r, t] {
      for (int i = 0; i < per_thread; ++i) {
        r.add("mdesync_x_total", {{"tenant", "shared"}}, 1);
        r.set("mdesync_g", {{"t", std::to_string(t)}}, i);
        if (i % 1000 == 0) (void)r.render();
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(r.value("mdesync_x_total", {{"tenant", "shared"}}), double(threads * per_thread));
  for (int t = 0; t < threads; ++t) EXPECT_EQ(r.value("mdesync_g", {{"t", std::to_string(t)}}), per_thread - 1.0);
}

}  // namespace
}  // namespace mdesync::metrics
