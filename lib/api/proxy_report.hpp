#pragma once
// What `mdesync check` says about the proxy: whether one is used, where the
// setting came from, and which of the configured hosts go through it. Pure:
// reads the config (and the proxy password, to prove it can), sends nothing.
#include <string>

#include "config/config.hpp"

namespace mdesync::api {

struct ProxyReport {
  bool ok = true;      // false: the proxy password cannot be read
  std::string detail;  // one line, never a password
};

// `only_tenant`: as `mdesync check --tenant`; empty: every tenant.
ProxyReport proxy_report(const config::Config& cfg, const std::string& only_tenant);

// The fix for a request to `url` that got no answer: the network, or the proxy
// when one carries it.
std::string network_fix(const config::Config& cfg, const std::string& url);

}  // namespace mdesync::api
