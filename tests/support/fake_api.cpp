#include "support/fake_api.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "http/client.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {

std::string mdesync_binary() { return std::string(MDESYNC_BIN_DIR) + "/mdesync"; }

RunResult run_mdesync(const std::filesystem::path& config, std::vector<std::string> args,
                      std::vector<std::string> extra_env) {
  std::vector<std::string> argv = {mdesync_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--config");
  argv.push_back(config.string());
  return run(argv, std::chrono::minutes(5), std::move(extra_env));
}

void expect_table_equals_truth(FakeApi& api, const std::string& schema, model::Dataset ds, const std::string& tenant) {
  const auto name = std::string(model::spec(ds).name);
  const auto d = compare_with_truth(schema, tenant, ds, api.truth(name));
  EXPECT_GT(d.truth_rows, 0) << name;
  EXPECT_TRUE(d.equal()) << name << ": truth " << d.truth_rows << " rows, table " << d.table_rows << ", missing "
                         << d.missing_count << " e.g. " << (d.missing.empty() ? "" : d.missing[0]) << ", extra "
                         << d.extra_count << " e.g. " << (d.extra.empty() ? "" : d.extra[0]);
}

FakeApi::FakeApi(std::vector<std::string> flags, int devices, int seed) {
  secret_file_ = dir_.write("secret", fake_secret + "\n");
  log_file_ = dir_.path() / "fakeapi.log";
  const auto port_file = dir_.path() / "port";
  std::vector<std::string> argv = {std::string(MDESYNC_BIN_DIR) + "/mde-fakeapi",
                                   "--listen", "127.0.0.1:0",
                                   "--port-file", port_file.string(),
                                   "--tenant-id", fake_tenant_id,
                                   "--client-id", fake_client_id,
                                   "--client-secret-file", secret_file_.string(),
                                   "--devices", std::to_string(devices),
                                   "--seed", std::to_string(seed)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  process_ = std::make_unique<Process>(argv, log_file_);
  for (int i = 0; i < 500; ++i) {
    if (std::filesystem::exists(port_file) && std::filesystem::file_size(port_file) > 0) break;
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string port = read_file(port_file);
  if (port.empty()) {
    ADD_FAILURE() << "mde-fakeapi did not start:\n" << read_file(log_file_);
    throw std::runtime_error("mde-fakeapi did not start");
  }
  bool tls = false;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    if (flags[i] == "--tls") tls = true;
    if (flags[i] == "--ca-out" && i + 1 < flags.size()) ca_file_ = flags[i + 1];
  }
  base_url_ = std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(std::stoi(port));
}

FakeApi::~FakeApi() {
  process_->kill(SIGTERM);
  if (process_->wait(std::chrono::seconds(5)) < 0) process_->kill(SIGKILL);
}

namespace {

std::string admin(const std::string& method, const std::string& url, const std::string& ca_file,
                  const std::string& body = {}) {
  http::ClientOptions options;
  options.ca_file = ca_file;
  http::Client client(options);
  http::Request request;
  request.method = method;
  request.url = url;
  request.body = body;
  const auto r = client.send(request);
  if (r.status < 200 || r.status >= 300) {
    ADD_FAILURE() << method << " " << url << " -> " << r.status << ": " << r.body;
    throw std::runtime_error("admin call failed");
  }
  return r.body;
}

}  // namespace

std::string FakeApi::admin_get(const std::string& p) { return admin("GET", base_url_ + p, ca_file_); }
std::string FakeApi::admin_post(const std::string& p) { return admin("POST", base_url_ + p, ca_file_); }

void FakeApi::inject(model::Dataset ds, const std::string& body, const std::string& tenant_id) {
  admin("POST", base_url_ + "/_admin/inject?tenant=" + tenant_id + "&dataset=" + std::string(model::spec(ds).name),
        ca_file_, body);
}

std::string FakeApi::truth(const std::string& dataset, const std::string& tenant_id) {
  return admin_get("/_admin/truth?tenant=" + tenant_id + "&dataset=" + dataset);
}

std::filesystem::path write_config(const TempDir& dir, const FakeApi& api, const ConfigOptions& o) {
  const std::string yaml =
      "database:\n"
      "  url: \"" + (o.database_url.empty() ? database_url() : o.database_url) + "\"\n"
      "  schema: " + o.schema + "\n"
      "tenants:\n"
      "  - name: " + o.tenant_name + "\n"
      "    tenant_id: \"" + fake_tenant_id + "\"\n" +
      (o.client_id ? "    client_id: \"" + fake_client_id + "\"\n" : std::string()) +
      (o.secret ? "    client_secret_file: " + (o.secret_file.empty() ? api.secret_file().string() : o.secret_file) + "\n"
                : std::string()) +
      "    api_url: " + (o.api_url.empty() ? api.base_url() : o.api_url) + "\n"
      "    token_url: " + (o.token_url.empty() ? api.base_url() + "/" + fake_tenant_id + "/oauth2/v2.0/token" : o.token_url) +
      "\n" +
      o.extra_tenant +
      "sync:\n"
      "  page_size: " + std::to_string(o.page_size) + "\n"
      "  full_via: " + o.full_via + "\n"
      "  watermark_overlap: " + o.watermark_overlap + "\n" +
      o.extra_sync +
      "http:\n"
      "  timeout: 10s\n" +
      (o.ca_file.empty() ? std::string() : "  ca_file: " + o.ca_file + "\n") + o.extra_http +
      "log:\n"
      "  level: debug\n" +
      o.extra;
  return dir.write("mdesync.yaml", yaml);
}

}  // namespace mdesync::testing
