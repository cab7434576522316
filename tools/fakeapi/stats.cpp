#include "stats.hpp"

#include "core/timestamp.hpp"
#include "json_writer.hpp"

namespace mdesync::fakeapi {

Stats::TenantCounters& Stats::tenant(std::string_view id) {
  auto it = tenants_.find(id);
  if (it == tenants_.end()) it = tenants_.emplace(std::string(id), TenantCounters{}).first;
  return it->second;
}

void Stats::request(std::string_view path_key, std::string_view status_key, std::string_view tenant_id) {
  std::lock_guard lock(mutex_);
  auto it = requests_.find(path_key);
  if (it == requests_.end()) it = requests_.emplace(std::string(path_key), std::map<std::string, std::uint64_t, std::less<>>{}).first;
  auto jt = it->second.find(status_key);
  if (jt == it->second.end()) jt = it->second.emplace(std::string(status_key), 0).first;
  ++jt->second;
  if (!tenant_id.empty()) ++tenant(tenant_id).requests;
}

void Stats::violation(std::string_view t) {
  std::lock_guard lock(mutex_);
  ++violations_;
  ++tenant(t).violations;
}

void Stats::throttled(std::string_view t) {
  std::lock_guard lock(mutex_);
  ++throttled_;
  ++tenant(t).throttled;
}

void Stats::early_retry(std::string_view t) {
  std::lock_guard lock(mutex_);
  ++early_retries_;
  ++tenant(t).early_retries;
}

void Stats::token_issued(std::string_view t) {
  std::lock_guard lock(mutex_);
  ++tokens_issued_;
  ++tenant(t).tokens_issued;
}

void Stats::unauthorized() {
  std::lock_guard lock(mutex_);
  ++unauthorized_;
}

void Stats::fault(std::string_view kind) {
  std::lock_guard lock(mutex_);
  auto it = faults_.find(kind);
  if (it == faults_.end()) it = faults_.emplace(std::string(kind), 0).first;
  ++it->second;
}

std::string Stats::to_json() const {
  std::lock_guard lock(mutex_);
  std::string out;
  json::Writer w(out);
  w.begin_object();
  w.field("since", format_iso8601_utc(since_));
  w.key("requests").begin_object();
  for (const auto& [path, by_status] : requests_) {
    w.key(path).begin_object();
    for (const auto& [status, n] : by_status) w.field(status, n);
    w.end_object();
  }
  w.end_object();
  w.field("violations", violations_);
  w.field("throttled", throttled_);
  w.field("early_retries", early_retries_);
  w.field("tokens_issued", tokens_issued_);
  w.field("unauthorized", unauthorized_);
  w.key("faults_injected").begin_object();
  for (const auto& [kind, n] : faults_) w.field(kind, n);
  w.end_object();
  w.key("tenants").begin_object();
  for (const auto& [id, c] : tenants_) {
    w.key(id).begin_object();
    w.field("requests", c.requests);
    w.field("violations", c.violations);
    w.field("throttled", c.throttled);
    w.field("early_retries", c.early_retries);
    w.field("tokens_issued", c.tokens_issued);
    w.end_object();
  }
  w.end_object();
  w.end_object();
  return out;
}

void Stats::reset(SystemTime since) {
  std::lock_guard lock(mutex_);
  since_ = since;
  requests_.clear();
  tenants_.clear();
  faults_.clear();
  violations_ = throttled_ = early_retries_ = tokens_issued_ = unauthorized_ = 0;
}

std::uint64_t Stats::violations() const {
  std::lock_guard lock(mutex_);
  return violations_;
}

std::uint64_t Stats::early_retries() const {
  std::lock_guard lock(mutex_);
  return early_retries_;
}

std::uint64_t Stats::throttled_count() const {
  std::lock_guard lock(mutex_);
  return throttled_;
}

std::uint64_t Stats::fault_count(std::string_view kind) const {
  std::lock_guard lock(mutex_);
  const auto it = faults_.find(kind);
  return it == faults_.end() ? 0 : it->second;
}

}  // namespace mdesync::fakeapi
