#pragma once
// Counters and gauges kept in memory and rendered in the Prometheus text
// exposition format 0.0.4. Pure and thread-safe: any thread may update, the
// metrics endpoint renders from its own thread.
//
// Invariants kept by registry.cpp:
//  - A counter never goes down: set() on a counter and a negative add() are
//    rejected (std::invalid_argument), so a scrape never sees a counter reset
//    that did not happen.
//  - A name has one type for its lifetime; describing it again with another
//    type is rejected.
//  - Metric and label names are valid Prometheus names; label values are
//    escaped on output, so no value can break the exposition format.
//  - Labels are a set: {a=1,b=2} and {b=2,a=1} are the same series.
//  - render() is deterministic: families by name, series by their sorted labels.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mdesync::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // type is "counter" or "gauge". Needed only for HELP; add()/set() on an
  // undescribed name create it as counter/gauge without HELP.
  void describe(std::string_view name, std::string_view type, std::string_view help);
  // Counter (or gauge) += delta; delta must be >= 0 for counters.
  void add(std::string_view name, const Labels& labels, double delta);
  // Gauge = value.
  void set(std::string_view name, const Labels& labels, double value);
  // The current value of one series; nullopt when it was never updated.
  std::optional<double> value(std::string_view name, const Labels& labels) const;
  // Prometheus text format 0.0.4 (Content-Type: text/plain; version=0.0.4).
  std::string render() const;

 private:
  enum class Type { counter, gauge };
  struct Family {
    Type type;
    std::string help;
    std::map<Labels, double> series;  // keys hold labels sorted by name
  };

  Family& family(std::string_view name, Type implied);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// Escapers, exposed for tests: HELP text escapes backslash and newline; label
// values also escape the double quote.
std::string escape_help(std::string_view text);
std::string escape_label_value(std::string_view value);
// The shortest decimal that reads back as the same double ("3", "0.25",
// "1e+20"), and "NaN", "+Inf", "-Inf" as the format spells them.
std::string format_value(double value);

}  // namespace mdesync::metrics
