#pragma once
// Helpers shared by the simulator's tests.
#include <simdjson.h>

#include <string>
#include <string_view>
#include <vector>

#include "certificate.hpp"
#include "inventory.hpp"
#include "model/dataset.hpp"
#include "record_json.hpp"

namespace mdesync::fakeapi::testing {

std::vector<RecordKey> keys_of(const TenantData& t, model::Dataset d);

// The whole data set serialized as /_admin/truth serializes it.
std::string truth_json(const TenantData& t, model::Dataset d);

// Signs header.payload as a JWS with the given PEM private key: "RS256" or "PS256".
std::string sign_jwt(const std::string& header_json, const std::string& payload_json, const std::string& key_pem,
                     const std::string& alg);

// gunzip with lib/codec (throws on truncated input).
std::string gunzip(std::string_view data);

// A record's key from a parsed JSON object.
RecordKey key_from_json(simdjson::dom::object o);

}  // namespace mdesync::fakeapi::testing
