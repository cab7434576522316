#include "client_assertion.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <optional>
#include <simdjson.h>

#include "core/base64.hpp"

namespace mdesync::fakeapi {
namespace {

std::optional<std::string_view> get_string(simdjson::dom::object obj, const char* key) {
  std::string_view v;
  if (obj[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<double> get_number(simdjson::dom::object obj, const char* key) {
  simdjson::dom::element e;
  if (obj[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  double d;
  if (e.get(d) == simdjson::SUCCESS) return d;
  std::int64_t i;
  if (e.get(i) == simdjson::SUCCESS) return static_cast<double>(i);
  std::uint64_t u;
  if (e.get(u) == simdjson::SUCCESS) return static_cast<double>(u);
  return std::nullopt;
}

bool verify_signature(const Certificate& cert, bool pss, std::string_view signing_input, std::string_view sig) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, EVP_sha256(), nullptr, cert.public_key()) != 1) return false;
  if (pss) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
      return false;
  } else if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
}

}  // namespace

std::string verify_client_assertion(std::string_view jwt, const Certificate& cert, const AssertionExpectations& expect) {
  const auto dot1 = jwt.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos)
    return "The client assertion is not a JWS compact serialization.";
  const auto header_raw = base64url_decode(jwt.substr(0, dot1));
  const auto payload_raw = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  const auto sig = base64url_decode(jwt.substr(dot2 + 1));
  if (!header_raw || !payload_raw || !sig) return "The client assertion is not valid base64url.";

  simdjson::dom::parser hp, pp;
  simdjson::dom::object header, payload;
  if (hp.parse(simdjson::padded_string(*header_raw)).get(header) != simdjson::SUCCESS)
    return "The client assertion header is not a JSON object.";
  if (pp.parse(simdjson::padded_string(*payload_raw)).get(payload) != simdjson::SUCCESS)
    return "The client assertion payload is not a JSON object.";

  const auto alg = get_string(header, "alg");
  if (!alg || (*alg != "RS256" && *alg != "PS256"))
    return "The client assertion uses an unsupported algorithm; RS256 and PS256 are accepted.";
  if (!cert.is_rsa()) return "The configured certificate does not hold an RSA key.";
  const bool pss = *alg == "PS256";
  const auto x5t = get_string(header, "x5t");
  const auto x5t256 = get_string(header, "x5t#S256");
  if (pss && !x5t256) return "A PS256 client assertion must carry the x5t#S256 header.";
  if (!pss && !x5t) return "An RS256 client assertion must carry the x5t header.";
  if ((x5t && *x5t != cert.x5t()) || (x5t256 && *x5t256 != cert.x5t_s256()))
    return "The certificate thumbprint in the client assertion does not match a registered certificate.";

  if (!verify_signature(cert, pss, jwt.substr(0, dot2), *sig))
    return "Client assertion failed signature validation.";

  // Claims.
  bool aud_ok = false;
  std::string_view aud;
  simdjson::dom::array auds;
  if (payload["aud"].get(aud) == simdjson::SUCCESS) {
    aud_ok = aud == expect.audience;
  } else if (payload["aud"].get(auds) == simdjson::SUCCESS) {
    for (auto a : auds) {
      std::string_view s;
      if (a.get(s) == simdjson::SUCCESS && s == expect.audience) aud_ok = true;
    }
  }
  if (!aud_ok) return "The audience claim value is invalid. Expected '" + expect.audience + "'.";
  const auto iss = get_string(payload, "iss");
  const auto sub = get_string(payload, "sub");
  if (!iss || *iss != expect.client_id) return "The issuer claim must be the client id.";
  if (!sub || *sub != expect.client_id) return "The subject claim must be the client id.";
  const auto jti = get_string(payload, "jti");
  if (!jti || jti->empty()) return "The client assertion must contain a jti claim.";
  const auto nbf = get_number(payload, "nbf");
  const auto exp = get_number(payload, "exp");
  if (!nbf || !exp) return "The client assertion must contain nbf and exp claims.";
  const double now =
      std::chrono::duration<double>(expect.now.time_since_epoch()).count();
  if (now < *nbf) return "The client assertion is not yet valid (nbf is in the future).";
  if (now >= *exp) return "The client assertion has expired.";
  return {};
}

}  // namespace mdesync::fakeapi
