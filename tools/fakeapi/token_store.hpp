#pragma once
// Issued access tokens: random opaque strings bound to a tenant, with an expiry and a
// count of data pages served with them (for --token-expire-after-pages).
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace mdesync::fakeapi {

enum class TokenState { valid, unknown, expired, exhausted };

struct TokenCheck {
  TokenState state = TokenState::unknown;
  std::string tenant;
};

class TokenStore {
 public:
  std::string issue(const std::string& tenant, std::chrono::seconds lifetime, SteadyTime now);
  // page_limit 0 = unlimited; a token that has served page_limit pages is exhausted.
  TokenCheck check(const std::string& token, SteadyTime now, std::uint32_t page_limit) const;
  void count_page(const std::string& token);
  // Every token issued so far stops working (POST /_admin/expire-tokens).
  void expire_all();
  std::size_t size() const;

 private:
  struct Entry {
    std::string tenant;
    SteadyTime expires;
    std::uint32_t pages = 0;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> tokens_;
};

// 32 random bytes from OpenSSL, base64url: unguessable and opaque to clients.
std::string random_token();
// A random RFC 4122 version 4 GUID, lowercase.
std::string random_guid();

}  // namespace mdesync::fakeapi
