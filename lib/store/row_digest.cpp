#include "store/row_digest.hpp"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace mdesync::store {
namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Fetched once: an implicit fetch per call costs more than hashing a row.
const EVP_MD* sha256() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  if (!md) throw std::runtime_error("OpenSSL has no SHA256");
  return md.get();
}

std::uint64_t load_be64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

RowDigest digest_row(std::string_view copy_fields) {
  // One context per thread, reused: creating one per row would allocate per row.
  thread_local const std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex2(ctx.get(), sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), copy_fields.data(), copy_fields.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1 || len < 16)
    throw std::runtime_error("SHA256 failed");
  return {load_be64(out), load_be64(out + 8)};
}

void append_uuid(std::string& out, const RowDigest& d) {
  static constexpr char hex[] = "0123456789abcdef";
  char buf[36];
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) buf[pos++] = '-';
    const std::uint64_t word = i < 16 ? d.high : d.low;
    buf[pos++] = hex[(word >> (60 - 4 * (i % 16))) & 0xF];
  }
  out.append(buf, sizeof buf);
}

std::optional<RowDigest> parse_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  RowDigest d;
  int digit = 0;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
      if (text[pos] != '-') return std::nullopt;
      continue;
    }
    const int v = hex_value(text[pos]);
    if (v < 0) return std::nullopt;
    auto& word = digit < 16 ? d.high : d.low;
    word = (word << 4) | static_cast<std::uint64_t>(v);
    ++digit;
  }
  return d;
}

}  // namespace mdesync::store
