#include "federated_token.hpp"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <simdjson.h>

#include <stdexcept>

#include "certificate.hpp"
#include "core/base64.hpp"
#include "core/timestamp.hpp"
#include "json_writer.hpp"
#include "token_store.hpp"

namespace mdesync::fakeapi {
namespace {

std::int64_t unix_seconds(SystemTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

struct Parts {
  std::string header, payload, signature;
  std::string_view signing_input;
};

std::optional<Parts> split(std::string_view jwt) {
  const auto dot1 = jwt.find('.');
  const auto dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) return std::nullopt;
  auto header = base64url_decode(jwt.substr(0, dot1));
  auto payload = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(jwt.substr(dot2 + 1));
  if (!header || !payload || !signature) return std::nullopt;
  return Parts{std::move(*header), std::move(*payload), std::move(*signature), jwt.substr(0, dot2)};
}

std::optional<std::string> string_member(simdjson::dom::object obj, const char* key) {
  std::string_view v;
  if (obj[key].get(v) != simdjson::SUCCESS) return std::nullopt;
  return std::string(v);
}

std::optional<std::int64_t> integer_member(simdjson::dom::object obj, const char* key) {
  std::int64_t v;
  if (obj[key].get(v) == simdjson::SUCCESS) return v;
  double d;
  if (obj[key].get(d) == simdjson::SUCCESS) return static_cast<std::int64_t>(d);
  return std::nullopt;
}

std::string utc_text(std::int64_t seconds) {
  return format_iso8601_utc(SystemTime(std::chrono::seconds(seconds)));
}

}  // namespace

FederatedIssuer::FederatedIssuer() : key_(EVP_RSA_gen(2048), EVP_PKEY_free), kid_(random_token().substr(0, 16)) {
  if (!key_) throw std::runtime_error("federated issuer key generation: " + openssl_errors());
}

std::string FederatedIssuer::mint(const FederatedClaims& c) const {
  std::string header, payload;
  json::Writer h(header);
  h.begin_object().field("alg", "RS256").field("kid", kid_).end_object();
  json::Writer p(payload);
  p.begin_object()
      .field("aud", c.audience)
      .field("exp", unix_seconds(c.expires))
      .field("iat", unix_seconds(c.not_before))
      .field("iss", c.issuer)
      .field("nbf", unix_seconds(c.not_before))
      .field("sub", c.subject)
      .end_object();
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("federated token signing: " + openssl_errors());
  std::string signature(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("federated token signing: " + openssl_errors());
  signature.resize(len);
  return input + "." + base64url_encode(signature);
}

FederatedVerdict FederatedIssuer::verify(std::string_view jwt, const std::string& issuer, const std::string& subject,
                                         SystemTime now) const {
  const std::string advice =
      " Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.";
  const auto parts = split(jwt);
  if (!parts) return {50027, "JWT token is invalid or malformed."};
  simdjson::dom::parser hp, pp;
  simdjson::dom::object header, payload;
  if (hp.parse(simdjson::padded_string(parts->header)).get(header) != simdjson::SUCCESS ||
      pp.parse(simdjson::padded_string(parts->payload)).get(payload) != simdjson::SUCCESS)
    return {50027, "JWT token is invalid or malformed."};

  const auto iss = string_member(payload, "iss").value_or("");
  if (iss != issuer)
    return {700211, "No matching federated identity record found for presented assertion issuer '" + iss + "'." +
                        advice};
  if (string_member(header, "alg").value_or("") != "RS256" || string_member(header, "kid").value_or("") != kid_)
    return {700027, "Client assertion failed signature validation. [Reason - The key was not found.]"};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  const bool signed_ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(parts->signature.data()),
                       parts->signature.size(), reinterpret_cast<const unsigned char*>(parts->signing_input.data()),
                       parts->signing_input.size()) == 1;
  if (!signed_ok) return {700027, "Client assertion failed signature validation."};

  const auto sub = string_member(payload, "sub").value_or("");
  if (sub != subject)
    return {700213, "No matching federated identity record found for presented assertion subject '" + sub + "'." +
                        advice};
  bool audience_ok = false;
  std::string_view aud;
  simdjson::dom::array auds;
  if (payload["aud"].get(aud) == simdjson::SUCCESS) {
    audience_ok = aud == federated_audience;
  } else if (payload["aud"].get(auds) == simdjson::SUCCESS) {
    for (auto a : auds)
      if (a.get(aud) == simdjson::SUCCESS && aud == federated_audience) audience_ok = true;
  }
  if (!audience_ok)
    return {700212, "No matching federated identity record found for presented assertion audience '" +
                        std::string(aud) + "'." + advice};
  const auto nbf = integer_member(payload, "nbf");
  const auto exp = integer_member(payload, "exp");
  const auto t = unix_seconds(now);
  if (!exp || t >= *exp || (nbf && t < *nbf))
    return {700024, "Client assertion is not within its valid time range. Current time: " + utc_text(t) +
                        ", assertion valid from " + (nbf ? utc_text(*nbf) : std::string("(none)")) +
                        ", expiry time of assertion " + (exp ? utc_text(*exp) : std::string("(none)")) + "."};
  return {};
}

std::optional<std::string> unverified_issuer(std::string_view jwt) {
  const auto parts = split(jwt);
  if (!parts) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::object payload;
  if (parser.parse(simdjson::padded_string(parts->payload)).get(payload) != simdjson::SUCCESS) return std::nullopt;
  return string_member(payload, "iss");
}

}  // namespace mdesync::fakeapi
