#pragma once
// A running mde-fakeapi for a test, plus the config that points mdesync at it.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "model/dataset.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::testing {

inline const std::string fake_tenant_id = "11111111-2222-3333-4444-555555555555";
inline const std::string fake_client_id = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
inline const std::string fake_secret = "s3cr3t-\"quoted\"&amp=+%";

class FakeApi {
 public:
  // Starts build/bin/mde-fakeapi on a free loopback port with the given extra flags.
  explicit FakeApi(std::vector<std::string> flags, int devices = 50, int seed = 7);
  ~FakeApi();

  const std::string& base_url() const { return base_url_; }
  // With --tls --ca-out FILE: the certificate clients must trust.
  const std::string& ca_file() const { return ca_file_; }
  const std::filesystem::path& secret_file() const { return secret_file_; }
  const std::filesystem::path& log_file() const { return log_file_; }

  // GET or POST an admin path ("/_admin/stats"); fails the test on a non-2xx answer.
  std::string admin_get(const std::string& path_and_query);
  std::string admin_post(const std::string& path_and_query);
  std::string truth(const std::string& dataset, const std::string& tenant_id = fake_tenant_id);
  // Replaces the injected pages of a tenant's data set: raw records, one per line,
  // served after the generated ones (see tools/fakeapi/README.md, /_admin/inject).
  void inject(model::Dataset ds, const std::string& body, const std::string& tenant_id = fake_tenant_id);

 private:
  TempDir dir_;
  std::filesystem::path secret_file_;
  std::filesystem::path log_file_;
  std::unique_ptr<Process> process_;
  std::string base_url_;
  std::string ca_file_;
};

struct ConfigOptions {
  std::string schema;
  std::string tenant_name = "contoso";
  std::string full_via = "json";
  int page_size = 100;
  std::string watermark_overlap = "0s";
  std::string extra_sync = {};    // more lines under sync:, each "  key: value\n"
  std::string extra_tenant = {};  // more lines under the tenant, each "    key: value\n"
  std::string extra_http = {};    // more lines under http:, each "  key: value\n"
  std::string extra = {};         // more top-level sections
  // Credentials: the simulator's secret file unless another file is named, or
  // none at all (the test puts certificate_file/private_key_file in extra_tenant).
  std::string secret_file = {};
  bool secret = true;
  bool client_id = true;          // false: no client_id line (auth: managed_identity)
  std::string api_url = {};       // instead of the simulator's own
  std::string token_url = {};     // instead of the simulator's own
  std::string database_url = {};  // instead of the test database's (e.g. through a proxy)
  std::string ca_file = {};       // http.ca_file
};

// Writes a config for one tenant served by `api` into dir and returns its path.
std::filesystem::path write_config(const TempDir& dir, const FakeApi& api, const ConfigOptions& options);

// build/bin/mdesync
std::string mdesync_binary();

// Runs `mdesync ARGS... --config CONFIG` to completion; `extra_env`: "NAME=value"
// entries added to (or replacing in) the inherited environment.
RunResult run_mdesync(const std::filesystem::path& config, std::vector<std::string> args,
                      std::vector<std::string> extra_env = {});

// Fails the test unless the tenant's current rows of `ds` equal the simulator's truth.
void expect_table_equals_truth(FakeApi& api, const std::string& schema, model::Dataset ds,
                               const std::string& tenant = "contoso");

}  // namespace mdesync::testing
