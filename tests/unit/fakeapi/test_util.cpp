#include "test_util.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>

#include "codec/gzip.hpp"
#include "core/base64.hpp"

namespace mdesync::fakeapi::testing {

std::vector<RecordKey> keys_of(const TenantData& t, model::Dataset d) {
  std::vector<RecordKey> out;
  if (d == model::Dataset::cpe)
    for (const auto& r : t.cpe()) out.push_back(t.key_of(r));
  else
    for (const auto& r : t.noncpe()) out.push_back(t.key_of(r));
  return out;
}

std::string truth_json(const TenantData& t, model::Dataset d) {
  RecordWriter w(t);
  std::string out = "[";
  bool first = true;
  if (d == model::Dataset::cpe) {
    for (const auto& r : t.cpe()) {
      if (!first) out += ',';
      first = false;
      w.cpe(out, r);
    }
  } else {
    for (const auto& r : t.noncpe()) {
      if (!first) out += ',';
      first = false;
      w.noncpe(out, r, GroupIdStyle::always_number);
    }
  }
  return out + "]";
}

std::string sign_jwt(const std::string& header_json, const std::string& payload_json, const std::string& key_pem,
                     const std::string& alg) {
  const std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())),
                                                BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key) throw std::runtime_error("bad key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestSignInit(ctx.get(), &pctx, EVP_sha256(), nullptr, key.get()) != 1) throw std::runtime_error("init");
  if (alg == "PS256") {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  std::size_t len = 0;
  EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("sign");
  sig.resize(len);
  return input + "." + base64url_encode(sig);
}

std::string gunzip(std::string_view data) {
  std::string out;
  codec::GzipInflater inflater([&](std::string_view chunk) { out.append(chunk); });
  inflater.feed(data);
  inflater.finish();
  return out;
}

RecordKey key_from_json(simdjson::dom::object o) {
  RecordKey k;
  k.device_id = std::string(std::string_view(o["deviceId"]));
  k.vendor = std::string(std::string_view(o["softwareVendor"]));
  k.name = std::string(std::string_view(o["softwareName"]));
  k.version = std::string(std::string_view(o["softwareVersion"]));
  return k;
}

}  // namespace mdesync::fakeapi::testing
