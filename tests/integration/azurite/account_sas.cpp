#include "account_sas.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>
#include <stdexcept>

#include "core/base64.hpp"
#include "core/url.hpp"

namespace mdesync::testing {
namespace {

std::string base64_decode(std::string_view text) {
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0 || text.size() % 4 != 0) throw std::invalid_argument("account key is not base64");
  // EVP_DecodeBlock counts padding as zero bytes; the key's '=' are not key bytes.
  std::size_t len = static_cast<std::size_t>(n);
  for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) --len;
  out.resize(len);
  return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size))
    throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

std::string sign(const AccountSas& sas, std::string_view account, std::string_view base64_key) {
  // Account SAS string-to-sign (versions 2015-04-05 up to 2020-12-06): one line
  // per field in this order, unused fields empty, ending with a newline. IP range
  // and protocol stay empty: any address, http and https (Azurite serves http).
  const std::string to_sign = std::string(account) + "\n" + sas.permissions + "\n" + sas.services + "\n" +
                              sas.resource_types + "\n" + sas.start + "\n" + sas.expiry + "\n" + "\n" + "\n" +
                              sas.version + "\n";
  const std::string signature = base64_encode(hmac_sha256(base64_decode(base64_key), to_sign));
  std::string query = "sv=" + percent_encode(sas.version) + "&ss=" + percent_encode(sas.services) +
                      "&srt=" + percent_encode(sas.resource_types) + "&sp=" + percent_encode(sas.permissions);
  if (!sas.start.empty()) query += "&st=" + percent_encode(sas.start);
  query += "&se=" + percent_encode(sas.expiry);
  // The signature is base64: '+', '/' and '=' must be escaped or '+' arrives as a space.
  query += "&sig=" + percent_encode(signature);
  return query;
}

std::string sas_time(SystemTime t) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace mdesync::testing
