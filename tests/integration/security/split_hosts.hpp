#pragma once
// One simulator seen as three hosts, each behind a recording relay:
//   token endpoint  http://localhost:T   (token_url)
//   Defender API    http://127.0.0.1:A   (api_url; nextLinks point here)
//   Blob Storage    http://127.0.0.2:S   (the SAS URLs the API hands out)
// plus what the security tests need around it: a config writer and the list of
// every credential that went over the wire, for the leak greps.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "integration/security/recording_relay.hpp"
#include "support/fake_api.hpp"

namespace mdesync::testing {

class SplitHosts {
 public:
  // `next_link_base` overrides where the simulator points nextLinks (a foreign host).
  explicit SplitHosts(std::vector<std::string> flags = {}, int devices = 20, const std::string& next_link_base = "");

  RecordingRelay token{"127.0.0.1"};
  RecordingRelay api{"127.0.0.1"};
  RecordingRelay storage{"127.0.0.2"};

  FakeApi& sim() { return *sim_; }
  std::string token_url() const;
  std::string api_url() const { return api.url(); }
  // The Host header each relay is reached by.
  std::string token_host() const { return "localhost:" + std::to_string(token.port()); }
  std::string api_host() const { return "127.0.0.1:" + std::to_string(api.port()); }
  std::string storage_host() const { return "127.0.0.2:" + std::to_string(storage.port()); }

  // Every exchange of the three relays.
  std::vector<Exchange> all_exchanges() const;

 private:
  std::unique_ptr<FakeApi> sim_;
};

struct SecurityConfig {
  std::string schema;
  std::string full_via = "json";
  std::string secret_file = {};   // "" for the simulator's own
  std::string certificate_lines = {};  // instead of a secret: "    certificate_file: ...\n    private_key_file: ...\n"
  std::string log_format = "text";
  std::string extra = {};         // more top-level sections
};

std::filesystem::path write_security_config(const TempDir& dir, SplitHosts& hosts, const SecurityConfig& c);

// What must never show up anywhere but on the wire to its own host: the client
// secret (raw and form-encoded), every access token the token endpoint issued,
// every client assertion sent, and every SAS signature the API handed out.
struct Credentials {
  std::vector<std::string> client_secret;
  std::vector<std::string> access_tokens;
  std::vector<std::string> assertions;
  std::vector<std::string> sas_signatures;
  std::vector<std::string> all() const;
};
Credentials credentials_seen(const SplitHosts& hosts);

// The value of `name=` in a query string or form body ("" when absent).
std::string param_value(const std::string& text, const std::string& name);

// Adds a failure naming the secret's kind for every secret found in `text`.
void expect_no_secret_in(const std::string& what, const std::string& text, const std::vector<std::string>& secrets);

}  // namespace mdesync::testing
