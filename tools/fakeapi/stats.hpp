#pragma once
// Counters behind GET /_admin/stats. `violations` is the number clients must keep at 0:
// requests that arrived while one of the tenant's quota windows was already full.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace mdesync::fakeapi {

class Stats {
 public:
  explicit Stats(SystemTime since) : since_(since) {}

  // status_key is the numeric status, or "reset" when the connection was closed unanswered.
  void request(std::string_view path_key, std::string_view status_key, std::string_view tenant);
  void violation(std::string_view tenant);
  void throttled(std::string_view tenant);
  void early_retry(std::string_view tenant);
  void token_issued(std::string_view tenant);
  void unauthorized();
  void fault(std::string_view kind);

  std::string to_json() const;
  void reset(SystemTime since);

  // For tests.
  std::uint64_t violations() const;
  std::uint64_t early_retries() const;
  std::uint64_t throttled_count() const;
  std::uint64_t fault_count(std::string_view kind) const;

 private:
  struct TenantCounters {
    std::uint64_t requests = 0, violations = 0, throttled = 0, early_retries = 0, tokens_issued = 0;
  };
  mutable std::mutex mutex_;
  SystemTime since_;
  std::map<std::string, std::map<std::string, std::uint64_t, std::less<>>, std::less<>> requests_;
  std::map<std::string, TenantCounters, std::less<>> tenants_;
  std::map<std::string, std::uint64_t, std::less<>> faults_;
  std::uint64_t violations_ = 0, throttled_ = 0, early_retries_ = 0, tokens_issued_ = 0, unauthorized_ = 0;

  TenantCounters& tenant(std::string_view id);
};

}  // namespace mdesync::fakeapi
