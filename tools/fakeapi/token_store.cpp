#include "token_store.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <stdexcept>

#include "core/base64.hpp"

namespace mdesync::fakeapi {

std::string random_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
}

std::string random_guid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

std::string TokenStore::issue(const std::string& tenant, std::chrono::seconds lifetime, SteadyTime now) {
  std::string token = random_token();
  std::lock_guard lock(mutex_);
  // Forget long-expired tokens now and then so a long soak does not grow without bound;
  // a recently expired one must still be known, to answer "expired" rather than "unknown".
  if (tokens_.size() > 10'000)
    std::erase_if(tokens_, [&](const auto& kv) { return kv.second.expires + std::chrono::hours(1) < now; });
  tokens_[token] = Entry{tenant, now + lifetime, 0};
  return token;
}

TokenCheck TokenStore::check(const std::string& token, SteadyTime now, std::uint32_t page_limit) const {
  std::lock_guard lock(mutex_);
  const auto it = tokens_.find(token);
  if (it == tokens_.end()) return {TokenState::unknown, {}};
  if (now >= it->second.expires) return {TokenState::expired, it->second.tenant};
  if (page_limit != 0 && it->second.pages >= page_limit) return {TokenState::exhausted, it->second.tenant};
  return {TokenState::valid, it->second.tenant};
}

void TokenStore::count_page(const std::string& token) {
  std::lock_guard lock(mutex_);
  if (const auto it = tokens_.find(token); it != tokens_.end()) ++it->second.pages;
}

void TokenStore::expire_all() {
  std::lock_guard lock(mutex_);
  for (auto& [_, e] : tokens_) e.expires = SteadyTime::min();
}

std::size_t TokenStore::size() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

}  // namespace mdesync::fakeapi
