// Target 5: what a token endpoint answers, off the network before anything is
// authenticated. Any body is read by FlatJson exactly as simdjson reads it; an
// HTTP 200 body is a TokenGrant or the documented Error; any other status is an
// Error whose message is safe to log and never shows a value it was asked to hide.
#include <simdjson.h>

#include <optional>
#include <string>

#include "auth/flat_json.hpp"
#include "auth/token_error.hpp"
#include "auth/token_response.hpp"
#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "invariants.hpp"
#include "core/quote.hpp"
#include "targets.hpp"

namespace mdesync::fuzz {
namespace {

// A secret the messages must never show, and the tenant they name.
constexpr std::string_view hidden = "Zq8~hidden~secret";
// Server text is cut to 400 bytes per part and escaping at most sextuples a
// byte, so a message stays far below this whatever the body.
constexpr std::size_t max_message = 8192;

using simdjson::ondemand::json_type;

// Every value visited, so that simdjson's On-Demand front end validates what the
// DOM parser behind FlatJson validated; containers deeper than FlatJson::max_depth
// (the root object counting as 1) are refused as FlatJson refuses them.
bool well_formed(simdjson::ondemand::value value, std::size_t depth) {
  json_type type;
  if (value.type().get(type)) return false;
  switch (type) {
    case json_type::object: {
      if (depth + 1 > auth::FlatJson::max_depth) return false;
      simdjson::ondemand::object object;
      if (value.get_object().get(object)) return false;
      for (auto field : object) {
        simdjson::ondemand::field f;
        std::string_view key;
        if (std::move(field).get(f) || f.unescaped_key().get(key) || !well_formed(f.value(), depth + 1)) return false;
      }
      return true;
    }
    case json_type::array: {
      if (depth + 1 > auth::FlatJson::max_depth) return false;
      simdjson::ondemand::array array;
      if (value.get_array().get(array)) return false;
      for (auto element : array) {
        simdjson::ondemand::value v;
        if (std::move(element).get(v) || !well_formed(v, depth + 1)) return false;
      }
      return true;
    }
    case json_type::string: {
      std::string_view s;
      return !value.get_string().get(s);
    }
    case json_type::number: {
      simdjson::ondemand::number n;
      return !value.get_number().get(n);
    }
    case json_type::boolean: {
      bool b;
      return !value.get_bool().get(b);
    }
    case json_type::null: {
      bool is_null = false;
      return !value.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

// What On-Demand makes of the first member named `key`'s value, when FlatJson
// answers for it: the unescaped string, or the integer.
struct FirstMember {
  std::optional<std::string> string;
  std::optional<std::int64_t> integer;
};

// The body read with On-Demand: nullopt unless it is exactly one well-formed
// object; otherwise each distinct key's first value as FlatJson reports it.
std::optional<std::vector<std::pair<std::string, FirstMember>>> read_with_on_demand(std::string_view body) {
  const simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  // On-Demand's own depth bound is only an assertion in checked builds; ours
  // (well_formed) decides, so the parser's must never be reached.
  if (parser.allocate(padded.size(), padded.size() + 2)) return std::nullopt;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) return std::nullopt;
  std::vector<std::pair<std::string, FirstMember>> members;
  for (auto field : object) {
    simdjson::ondemand::field f;
    std::string_view key;
    if (std::move(field).get(f) || f.unescaped_key().get(key)) return std::nullopt;
    FirstMember m;
    json_type type;
    if (f.value().type().get(type)) return std::nullopt;
    if (type == json_type::string) {
      std::string_view s;
      if (f.value().get_string().get(s)) return std::nullopt;
      m.string = std::string(s);
    } else if (type == json_type::number) {
      simdjson::ondemand::number n;
      if (f.value().get_number().get(n)) return std::nullopt;
      if (n.is_int64()) m.integer = n.get_int64();
    } else if (!well_formed(f.value(), 1)) {
      return std::nullopt;
    }
    bool seen = false;
    for (const auto& [k, v] : members) seen = seen || k == key;
    if (!seen) members.emplace_back(std::string(key), std::move(m));
  }
  // Exactly one object: nothing but whitespace after it.
  const char* end = nullptr;
  if (!doc.current_location().get(end)) return std::nullopt;
  return members;
}

void flat_json_reads_what_simdjson_reads(std::string_view body) {
  const auto flat = auth::FlatJson::parse(body);
  const auto expected = read_with_on_demand(body);
  check(flat.has_value() == expected.has_value(),
        flat ? "FlatJson accepted a body simdjson On-Demand refuses" : "FlatJson refused a body simdjson accepts");
  if (!flat) return;
  for (const auto& [key, m] : *expected) {
    check(flat->has(key), "FlatJson lost a member");
    check(flat->string(key) == m.string, "FlatJson's string is not simdjson's unescaping");
    if (m.integer) check(flat->integer(key) == m.integer, "FlatJson's integer is not simdjson's");
  }
}

// `requested_at`: as for a managed identity, whose endpoint may send expires_on only.
void grant(std::string_view body, std::optional<SystemTime> requested_at) {
  constexpr std::string_view what = "tenant \"fuzz\": token response ";
  const auto json = auth::FlatJson::parse(body);
  try {
    const auto g = auth::read_token_grant(body, std::string(what), requested_at);
    check(!g.access_token.empty(), "granted an empty access token");
    check(g.expires_in.count() >= 1 && g.expires_in <= auth::max_token_lifetime, "granted a lifetime out of range");
    check(json && json->string("access_token") == g.access_token, "the granted token is not the body's");
  } catch (const Error& e) {
    check(e.kind() == ErrorKind::transient || e.kind() == ErrorKind::auth, "token response error of another kind");
    const std::string_view m = e.what();
    check_log_safe(m, "token response error");
    check(m.starts_with(what), "token response error does not start with what it was given");
    // Only token_type is server text, and the token may hide in it: the rest is ours.
    const std::string_view rest = m.substr(what.size());
    if (rest == "is not JSON (HTTP 200); a proxy in the way?" || rest == "has no access_token" ||
        rest == (requested_at ? "has no valid expires_in or expires_on" : "has no valid expires_in"))
      return;
    check(json.has_value(), "token response error about a body that is not JSON");
    const std::string type = json->string("token_type").value_or("");
    const std::string token = json->string("access_token").value_or("");
    std::string shown;
    if (type.find(token) == std::string::npos)
      append_quoted(shown, type);
    else
      shown = "<redacted>";
    check(rest == "has token_type " + shown + ", expected Bearer",
          "token response error is none of the documented ones, or shows the token");
  }
}

void refusal(std::string_view body) {
  config::TenantOptions tenant;
  tenant.name = "fuzz";
  // A Retry-After header is raw bytes from the same server: take some of the body's.
  const std::optional<std::string> retry_after(std::string(body.substr(0, 40)));
  for (const int status : {400, 401, 404, 429, 500, 503}) {
    const Error e = auth::token_error(tenant, status, body, retry_after, {hidden});
    const std::string_view m = e.what();
    check_log_safe(m, "token error message");
    check(m.size() <= max_message, "token error message is not bounded");
    check(m.find(hidden) == std::string_view::npos, "token error message shows a hidden value");
  }
}

}  // namespace

void token(std::string_view input) {
  flat_json_reads_what_simdjson_reads(input);
  grant(input, std::nullopt);
  // A fixed moment, so that a corpus body's expires_on means the same every run.
  grant(input, SystemTime{std::chrono::seconds(1'700'000'000)});
  refusal(input);
}

}  // namespace mdesync::fuzz
