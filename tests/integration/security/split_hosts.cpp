#include "integration/security/split_hosts.hpp"

#include <gtest/gtest.h>

#include "core/url.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

std::vector<std::string> with_next_link_base(std::vector<std::string> flags, const std::string& base) {
  // Export requests are retried after a refused SAS: the per-minute window would make tests wait.
  for (const char* f : {"--export-per-minute", "0", "--export-per-hour", "0"}) flags.push_back(f);
  flags.push_back("--next-link-base");
  flags.push_back(base);
  return flags;
}

// Every value of "key":"..." in a JSON text (no escapes occur in the values we look for).
std::vector<std::string> json_string_values(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + key + "\":\"";
  for (auto at = json.find(needle); at != std::string::npos; at = json.find(needle, at + 1)) {
    const auto start = at + needle.size();
    out.push_back(json.substr(start, json.find('"', start) - start));
  }
  return out;
}

std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string json_escaped(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

SplitHosts::SplitHosts(std::vector<std::string> flags, int devices, const std::string& next_link_base) {
  sim_ = std::make_unique<FakeApi>(with_next_link_base(std::move(flags), next_link_base.empty() ? api.url() : next_link_base),
                                   devices);
  const int port = std::stoi(sim_->base_url().substr(sim_->base_url().rfind(':') + 1));
  for (auto* relay : {&token, &api, &storage}) relay->set_upstream_port(port);
  api.set_forwarded_host(storage_host());
}

std::string SplitHosts::token_url() const { return token.url("localhost") + "/" + fake_tenant_id + "/oauth2/v2.0/token"; }

std::vector<Exchange> SplitHosts::all_exchanges() const {
  std::vector<Exchange> out;
  for (const auto* relay : {&token, &api, &storage}) {
    const auto e = relay->exchanges();
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

std::filesystem::path write_security_config(const TempDir& dir, SplitHosts& hosts, const SecurityConfig& c) {
  const std::string credentials =
      c.certificate_lines.empty()
          ? "    client_secret_file: " + (c.secret_file.empty() ? hosts.sim().secret_file().string() : c.secret_file) + "\n"
          : c.certificate_lines;
  const std::string yaml =
      "database:\n"
      "  url: \"" + database_url() + "\"\n"
      "  schema: " + c.schema + "\n"
      "tenants:\n"
      "  - name: contoso\n"
      "    tenant_id: \"" + fake_tenant_id + "\"\n"
      "    client_id: \"" + fake_client_id + "\"\n" + credentials +
      "    api_url: " + hosts.api_url() + "\n"
      "    token_url: " + hosts.token_url() + "\n"
      "sync:\n"
      "  page_size: 100\n"
      "  full_via: " + c.full_via + "\n"
      "  watermark_overlap: 0s\n"
      "http:\n"
      "  timeout: 10s\n"
      "limits:\n"
      "  json_per_minute: 1000\n"
      "  json_per_hour: 100000\n"
      "  export_per_minute: 1000\n"
      "  export_per_hour: 100000\n"
      "log:\n"
      "  level: debug\n"
      "  format: " + c.log_format + "\n" + c.extra;
  return dir.write("mdesync.yaml", yaml);
}

std::vector<std::string> Credentials::all() const {
  std::vector<std::string> out;
  for (const auto* v : {&client_secret, &access_tokens, &assertions, &sas_signatures}) out.insert(out.end(), v->begin(), v->end());
  return out;
}

std::string param_value(const std::string& text, const std::string& name) {
  for (std::size_t at = text.find(name + "="); at != std::string::npos; at = text.find(name + "=", at + 1)) {
    if (at != 0 && text[at - 1] != '&' && text[at - 1] != '?') continue;
    const auto start = at + name.size() + 1;
    return text.substr(start, text.find_first_of("&\"", start) - start);
  }
  return {};
}

Credentials credentials_seen(const SplitHosts& hosts) {
  Credentials c;
  // Raw, form-encoded, and as a JSON log line would escape it.
  c.client_secret = {fake_secret, percent_encode(fake_secret), json_escaped(fake_secret)};
  for (const auto& e : hosts.token.exchanges()) {
    for (auto& t : json_string_values(e.response_body, "access_token")) c.access_tokens.push_back(std::move(t));
    if (auto a = param_value(e.request_body, "client_assertion"); !a.empty()) {
      c.assertions.push_back(a);
      c.assertions.push_back(a.substr(a.rfind('.') + 1));  // the signature alone
    }
  }
  for (const auto& e : hosts.api.exchanges()) {
    for (auto at = e.response_body.find("sig="); at != std::string::npos; at = e.response_body.find("sig=", at + 1))
      c.sas_signatures.push_back(param_value(e.response_body.substr(at), "sig"));
  }
  // Logged or stored text may hold a signature percent-decoded.
  const auto n = c.sas_signatures.size();
  for (std::size_t i = 0; i < n; ++i)
    if (auto d = percent_decode(c.sas_signatures[i]); d != c.sas_signatures[i]) c.sas_signatures.push_back(d);
  return c;
}

void expect_no_secret_in(const std::string& what, const std::string& text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.size() < 8) {
      ADD_FAILURE() << "a credential shorter than 8 characters cannot be searched for reliably: '" << s << "'";
      continue;
    }
    const auto at = text.find(s);
    if (at == std::string::npos) continue;
    // The context, with the credential itself masked, says which line leaked it.
    const auto from = at < 160 ? 0 : at - 160;
    ADD_FAILURE() << what << " shows a credential (" << s.substr(0, 4) << "...): ..." << text.substr(from, at - from)
                  << "<CREDENTIAL>" << text.substr(at + s.size(), 80) << "...";
  }
}

}  // namespace mdesync::testing
