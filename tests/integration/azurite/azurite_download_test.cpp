// Export files downloaded from a real Blob Storage implementation (Azurite)
// through mdesync's own path: api::download_file with a read-only SAS URL,
// feeding parse::GzipNdjsonStream. The simulator's export files are uploaded to
// Azurite first, so the rows can be checked against the simulator's truth.
// No assertion here depends on how long anything took.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "api/client_options.hpp"
#include "api/file_download.hpp"
#include "auth/flat_json.hpp"
#include "auth/form.hpp"
#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "http/client.hpp"
#include "integration/azurite/account_sas.hpp"
#include "integration/azurite/azurite_server.hpp"
#include "model/dataset.hpp"
#include "parse/gzip_ndjson_stream.hpp"
#include "parse/page.hpp"
#include "support/connect_proxy.hpp"
#include "support/fake_api.hpp"
#include "unit/auth/test_certs.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;

constexpr int export_files = 3;
constexpr int devices = 200;
const std::string container = "exports";

// Thrown by DownloadTarget::refresh: proves download_file asked for fresh URLs.
struct RefreshRequested {};

http::Response send(http::Client& client, const std::string& method, const std::string& url,
                    http::Headers headers = {}, std::string body = {}) {
  // Export files are gzip already: identity keeps the client from inflating them.
  headers.emplace_back("Accept-Encoding", "identity");
  return client.send(http::Request{method, url, std::move(headers), std::move(body)});
}

void require_status(const http::Response& r, int status, const std::string& what) {
  if (r.status != status)
    throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " (expected " + std::to_string(status) +
                             "): " + r.body.substr(0, 2000));
}

std::string bearer_token(http::Client& client, const FakeApi& api) {
  const auto r = send(client, "POST", api.base_url() + "/" + fake_tenant_id + "/oauth2/v2.0/token",
                      {{"Content-Type", "application/x-www-form-urlencoded"}},
                      auth::form_body({{"grant_type", "client_credentials"},
                                       {"client_id", fake_client_id},
                                       {"client_secret", fake_secret},
                                       {"scope", "https://api.securitycenter.microsoft.com/.default"}}));
  require_status(r, 200, "token request");
  const auto json = auth::FlatJson::parse(r.body);
  const auto token = json ? json->string("access_token") : std::nullopt;
  if (!token) throw std::runtime_error("token answer without access_token: " + r.body);
  return *token;
}

// The CPE export's files, byte for byte as the simulator serves them.
std::vector<std::string> fetch_export_files(http::Client& client, const FakeApi& api) {
  const std::string url =
      api.base_url() + std::string(model::spec(model::Dataset::cpe).export_path) + "?sasValidHours=1";
  const auto answer = send(client, "GET", url, {{"Authorization", "Bearer " + bearer_token(client, api)}});
  require_status(answer, 200, "export request");
  std::vector<std::string> files;
  for (const auto& file_url : parse::parse_export_response(answer.body).files) {
    auto r = send(client, "GET", file_url);
    require_status(r, 200, "export file download from the simulator");
    files.push_back(std::move(r.body));
  }
  return files;
}

// Top-level objects of the simulator's truth (a JSON array of records).
std::size_t record_count(const std::string& truth_json) {
  simdjson::dom::parser parser;
  simdjson::dom::array records;
  if (parser.parse(truth_json).get_array().get(records) != simdjson::SUCCESS)
    throw std::runtime_error("truth is not a JSON array");
  std::size_t n = 0;
  for (simdjson::dom::element record : records) n += record.is_object() ? 1 : 0;
  return n;
}

SystemTime now() { return RealClock::instance().now_utc(); }

// An account SAS for blobs in Azurite, valid from `start` (empty: from now on) until `expiry`.
std::string azurite_sas(std::string permissions, std::string resource_types, SystemTime expiry,
                        std::string start = {}, std::string_view key = azurite_key) {
  AccountSas sas;
  sas.permissions = std::move(permissions);
  sas.resource_types = std::move(resource_types);
  sas.start = std::move(start);
  sas.expiry = sas_time(expiry);
  return sign(sas, azurite_account, key);
}

// Rows parsed from one downloaded file, and the compressed bytes that made them.
struct Parsed {
  std::string bytes;
  std::size_t rows = 0;
  std::size_t rejected = 0;
  api::DownloadStats stats;
};

class AzuriteDownload : public ::testing::Test {
 protected:
  void SetUp() override { start(std::nullopt); }

  // Azurite (over TLS when `tls` is given, the client trusting its certificate)
  // and the simulator, and the simulator's export files uploaded to Azurite.
  void start(const std::optional<AzuriteTls>& tls) {
    azurite_ = std::make_unique<AzuriteServer>(tls);
    http::ClientOptions options;
    if (tls) options.ca_file = tls->certificate_file;
    client_ = std::make_unique<http::Client>(options);
    api_ = std::make_unique<FakeApi>(std::vector<std::string>{"--export-files", std::to_string(export_files)}, devices);
    files_ = fetch_export_files(*client_, *api_);
    ASSERT_EQ(files_.size(), static_cast<std::size_t>(export_files));
    for (const auto& f : files_) ASSERT_TRUE(f.size() > 2 && f[0] == '\x1f' && f[1] == '\x8b') << "not gzip";

    // Writing takes its own SAS: create the container, upload the blobs. Reading
    // below only ever uses read_sas_.
    const std::string write_sas = azurite_sas("rwc", "co", now() + 1h);
    require_status(send(*client_, "PUT", container_url() + "?restype=container&" + write_sas), 201,
                   "create container");
    for (int i = 0; i < export_files; ++i) {
      require_status(send(*client_, "PUT", blob_url(i, write_sas),
                          {{"x-ms-blob-type", "BlockBlob"}, {"Content-Type", "application/octet-stream"}}, files_[i]),
                     201, "upload " + blob_name(i));
    }
  }

  // `domain`: none for 127.0.0.1, else a name only a test proxy resolves (AzuriteServer::account_url).
  std::string container_url(const std::string& domain = {}) const {
    return azurite_->account_url(domain) + "/" + container;
  }
  static std::string blob_name(int i) { return "cpe-" + std::to_string(i + 1) + ".json.gz"; }
  std::string blob_url(int i, const std::string& sas, const std::string& domain = {}) const {
    return container_url(domain) + "/" + blob_name(i) + "?" + sas;
  }

  // Downloads blob i with download_file, parsing as it arrives. refresh() throws
  // RefreshRequested; a restart (Range ignored) fails the test.
  Parsed download(http::Transport& transport, int i, const std::string& sas, const std::string& domain = {}) {
    Parsed p;
    std::string copy;
    parse::RecordEncoder encoder(model::Dataset::cpe, "contoso");
    parse::GzipNdjsonStream stream(encoder, blob_name(i), copy);
    const api::DownloadTarget target{[&] { return blob_url(i, sas, domain); }, [] { throw RefreshRequested{}; }};
    const api::DownloadSink sink{[&](std::string_view bytes) {
                                   p.bytes.append(bytes);
                                   stream.feed(bytes);
                                 },
                                 [] { throw std::logic_error("storage ignored Range: the download restarted"); }};
    // A fake clock: retry backoff passes without sleeping.
    p.stats = api::download_file(transport, target, sink, clock_);
    stream.finish();
    p.rows = stream.reader().rows();
    p.rejected = stream.reader().rejected();
    return p;
  }

  const std::string read_sas_ = azurite_sas("r", "o", now() + 1h);  // blobs only, read only
  FakeClock clock_;
  std::unique_ptr<http::Client> client_;  // straight to Azurite and the simulator
  std::unique_ptr<AzuriteServer> azurite_;
  std::unique_ptr<FakeApi> api_;
  std::vector<std::string> files_;  // as the simulator served them
};

TEST_F(AzuriteDownload, EveryExportFileDownloadedWithAReadOnlySasParsesToExactlyTheTruthsRecords) {
  std::size_t rows = 0;
  for (int i = 0; i < export_files; ++i) {
    const auto p = download(*client_, i, read_sas_);
    EXPECT_EQ(p.bytes.size(), files_[i].size()) << blob_name(i);
    EXPECT_TRUE(p.bytes == files_[i]) << blob_name(i) << ": Azurite served other bytes than were uploaded";
    EXPECT_EQ(p.stats.bytes, files_[i].size()) << blob_name(i);
    EXPECT_EQ(p.stats.url_refreshes, 0) << blob_name(i);
    EXPECT_EQ(p.rejected, 0u) << blob_name(i);
    EXPECT_GT(p.rows, 0u) << blob_name(i);
    rows += p.rows;
  }
  const std::size_t truth = record_count(api_->truth("cpe"));
  EXPECT_GT(truth, static_cast<std::size_t>(devices));  // ~20 CPE records per device
  EXPECT_EQ(rows, truth);
}

TEST_F(AzuriteDownload, AReadOnlySasCannotOverwriteABlob) {
  const auto r = send(*client_, "PUT", blob_url(0, read_sas_), {{"x-ms-blob-type", "BlockBlob"}}, "overwritten");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_TRUE(download(*client_, 0, read_sas_).bytes == files_[0]) << "the blob changed";
}

// download_file resumes with `Range: bytes=N-` and needs storage to answer 206
// with the bytes from N on; this is Azure's answer, not the simulator's.
TEST_F(AzuriteDownload, ARangedGetIsAnsweredWith206AndTheBytesFromThatOffset) {
  const auto r = send(*client_, "GET", blob_url(0, read_sas_), {{"Range", "bytes=10-"}});
  ASSERT_EQ(r.status, 206) << r.body.substr(0, 2000);
  EXPECT_EQ(r.body.size(), files_[0].size() - 10);
  EXPECT_TRUE(r.body == files_[0].substr(10)) << "the ranged body is not the file from byte 10 on";
  EXPECT_EQ(r.header("Content-Range").value_or(""),
            "bytes 10-" + std::to_string(files_[0].size() - 1) + "/" + std::to_string(files_[0].size()));
}

// Delivers the first `cut_at` body bytes of the first stream() and then fails
// like a connection reset; later calls pass through. Records each request's Range.
class CuttingTransport final : public http::Transport {
 public:
  CuttingTransport(http::Transport& inner, std::size_t cut_at) : inner_(inner), cut_at_(cut_at) {}
  http::Response send(const http::Request& request) override { return inner_.send(request); }
  http::Response stream(const http::Request& request, const std::function<void(std::string_view)>& on_body,
                        const std::function<void(const http::Response&)>& on_head) override {
    std::string range;
    for (const auto& [name, value] : request.headers)
      if (name == "Range") range = value;
    ranges.push_back(range);
    if (cut_) return inner_.stream(request, on_body, on_head);
    std::size_t delivered = 0;
    return inner_.stream(
        request,
        [&](std::string_view bytes) {
          const std::size_t take = std::min(bytes.size(), cut_at_ - delivered);
          on_body(bytes.substr(0, take));
          delivered += take;
          if (delivered == cut_at_) {
            cut_ = true;
            throw Error(ErrorKind::transient, "connection reset (injected)");
          }
        },
        on_head);
  }

  std::vector<std::string> ranges;  // "" when the request had no Range header

 private:
  http::Transport& inner_;
  std::size_t cut_at_;
  bool cut_ = false;
};

TEST_F(AzuriteDownload, ADownloadCutMidFileResumesFromAzuriteAndYieldsTheWholeFile) {
  const std::size_t cut_at = files_[1].size() / 2;
  CuttingTransport transport(*client_, cut_at);
  const auto p = download(transport, 1, read_sas_);
  ASSERT_EQ(transport.ranges.size(), 2u);
  EXPECT_EQ(transport.ranges[0], "");
  EXPECT_EQ(transport.ranges[1], "bytes=" + std::to_string(cut_at) + "-");
  EXPECT_EQ(p.stats.resumes, 1);
  EXPECT_EQ(p.stats.restarts, 0);
  EXPECT_TRUE(p.bytes == files_[1]) << "resumed download differs from the file: " << p.bytes.size() << " bytes of "
                                    << files_[1].size();
  EXPECT_GT(p.rows, 0u);
  EXPECT_EQ(p.rejected, 0u);
}

TEST_F(AzuriteDownload, AnExpiredSasIsRefusedWith403AndTheDownloadAsksForFreshUrls) {
  const std::string expired = azurite_sas("r", "o", now() - 1h, sas_time(now() - 2h));
  const auto r = send(*client_, "GET", blob_url(0, expired));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THROW(download(*client_, 0, expired), RefreshRequested);
}

TEST_F(AzuriteDownload, ASasSignedWithAnotherKeyIsRefusedWith403AndTheDownloadAsksForFreshUrls) {
  const std::string other_key = base64_encode(std::string(64, 'k'));
  const std::string forged = azurite_sas("r", "o", now() + 1h, {}, other_key);
  const auto r = send(*client_, "GET", blob_url(0, forged));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_THROW(download(*client_, 0, forged), RefreshRequested);
}

// Blob Storage where enterprises reach it: over TLS, through their HTTPS proxy.
// Azurite serves https with a certificate for devstoreaccount1.blob.mde.test,
// the shape of the URLs the export API hands out, and a name that only the
// proxy resolves (as a corporate proxy resolves what the client's DNS cannot),
// so a file that arrives came through the tunnel. The client is the one mdesync
// builds from a config's http section (api::client_options): the proxy, and the
// certificate trusted through http.ca_file, as the simulator's TLS tests trust
// theirs.
const std::string storage_domain = "blob.mde.test";
const std::string storage_host = std::string(azurite_account) + "." + storage_domain;
const std::string other_domain = "other.mde.test";  // the same Azurite, a name its certificate lacks

class AzuriteBehindProxy : public AzuriteDownload {
 protected:
  void SetUp() override {
    const auto cert = make_self_signed(storage_host, {"DNS:" + storage_host, "IP:127.0.0.1"});
    tls_.certificate_file = certs_.write("storage.pem", cert.certificate_pem).string();
    tls_.private_key_file = certs_.write("storage.key", cert.private_key_pem).string();
    start(tls_);  // the uploads go straight to 127.0.0.1, before any proxy exists
  }

  // The proxy knows both names, as 127.0.0.1.
  static ConnectProxyOptions proxy_options() {
    ConnectProxyOptions o;
    o.hosts = {{storage_host, "127.0.0.1"}, {std::string(azurite_account) + "." + other_domain, "127.0.0.1"}};
    return o;
  }
  http::Client through(const ConnectProxy& proxy) const {
    config::HttpOptions http;
    http.ca_file = tls_.certificate_file;
    http.proxy.source = "http.proxy";
    http.proxy.host = "127.0.0.1";
    http.proxy.port = static_cast<std::uint16_t>(proxy.port());
    return http::Client(api::client_options(http));
  }
  std::string tunnel_target(const std::string& host) const { return host + ":" + std::to_string(azurite_->port()); }
  // The signature of the SAS the downloads use: what must never reach the proxy.
  std::string read_signature() const { return read_sas_.substr(read_sas_.find("sig=") + 4); }

  TempDir certs_;
  AzuriteTls tls_;
};

TEST_F(AzuriteBehindProxy, ASnapshotDownloadGoesThroughTheTunnelVerifiedForTheStorageHostAndTheProxySeesOnlyConnect) {
  ConnectProxy proxy(proxy_options());
  http::Client client = through(proxy);
  std::size_t rows = 0;
  for (int i = 0; i < export_files; ++i) {
    const auto p = download(client, i, read_sas_, storage_domain);
    EXPECT_TRUE(p.bytes == files_[i]) << blob_name(i) << ": other bytes than were uploaded";
    EXPECT_EQ(p.rejected, 0u) << blob_name(i);
    rows += p.rows;
  }
  EXPECT_EQ(rows, record_count(api_->truth("cpe")));

  // The proxy's access log: the CONNECT line for the storage host, nothing else.
  const auto log = proxy.log();
  ASSERT_FALSE(log.empty());
  for (const auto& line : log) EXPECT_EQ(line, "CONNECT " + tunnel_target(storage_host) + " 200 user=-");
  EXPECT_EQ(proxy.tunnels_opened(), log.size());
  // Everything the client sent it, the tunnels included: TLS all the way, so no
  // SAS signature, query, path or blob name is readable there (the host name is:
  // in the CONNECT line, and in the TLS handshake's SNI).
  const std::string seen = proxy.seen();
  for (const std::string& hidden : {read_signature(), std::string("sig="), std::string("sp=r"),
                                    "/" + container + "/", blob_name(0), std::string("GET ")})
    EXPECT_EQ(seen.find(hidden), std::string::npos) << hidden;
}

TEST_F(AzuriteBehindProxy, TheCertificateIsCheckedAgainstTheStorageHostNotTheProxy) {
  // The same Azurite under a name its certificate does not carry: the tunnel
  // opens, and TLS inside it refuses the certificate.
  const std::string other_host = std::string(azurite_account) + "." + other_domain;
  ConnectProxy proxy(proxy_options());
  http::Client client = through(proxy);
  try {
    download(client, 0, read_sas_, other_domain);
    ADD_FAILURE() << "a certificate for " << storage_host << " was accepted for " << other_host;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(other_host), std::string::npos) << message;
    EXPECT_EQ(message.find(read_signature()), std::string::npos) << message;
  }
  // Retried as any failed handshake is; each attempt only ever a CONNECT line.
  const auto log = proxy.log();
  ASSERT_FALSE(log.empty());
  for (const auto& line : log) EXPECT_EQ(line, "CONNECT " + tunnel_target(other_host) + " 200 user=-");
}

}  // namespace
}  // namespace mdesync::testing
