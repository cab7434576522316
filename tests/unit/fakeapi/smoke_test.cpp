// Starts the built mde-fakeapi and talks HTTP (and HTTPS) to it over real sockets.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/url.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace mdesync::fakeapi {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The simulator as a child process, stopped with SIGTERM at the end.
class Simulator {
 public:
  Simulator(const mdesync::testing::TempDir& dir, std::vector<std::string> extra) : dir_(dir) {
    const std::string bin = std::string(MDESYNC_BIN_DIR) + "/mde-fakeapi";
    std::vector<std::string> args = {bin,
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     (dir.path() / "port").string(),
                                     "--client-secret-file",
                                     dir.write("secret", "s3cret\n").string(),
                                     "--tenant-id",
                                     "t1",
                                     "--client-id",
                                     "c1",
                                     "--devices",
                                     "20"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = (dir.path() / "stdout").string(), err = (dir.path() / "stderr").string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int rc = posix_spawn(&pid_, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + bin);
    // Generous deadline for a loaded machine; this is a wait, not a timing assertion.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
      const std::string text = slurp(dir.path() / "port");
      if (!text.empty() && text.back() == '\n') {
        port_ = static_cast<std::uint16_t>(std::stoi(text));
        return;
      }
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("mde-fakeapi exited: " + slurp(dir.path() / "stderr"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("mde-fakeapi wrote no port file");
  }

  // SIGTERM and the exit status (0 for a clean stop).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  ~Simulator() { stop(); }
  std::uint16_t port() const { return port_; }
  std::string stdout_text() const { return slurp(dir_.path() / "stdout"); }

 private:
  const mdesync::testing::TempDir& dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  bool complete = false;  // the whole Content-Length arrived
  bool any_bytes = false;
};

// One HTTP/1.1 connection, plain or TLS (verifying the server against a CA file).
class Connection {
 public:
  explicit Connection(std::uint16_t port, const std::string& ca_file = {}) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{60, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("connect");
    if (ca_file.empty()) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) throw std::runtime_error("CA file");
    ssl_ = SSL_new(ctx_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), "127.0.0.1");
    SSL_set_fd(ssl_, fd_);
    if (SSL_connect(ssl_) != 1) throw std::runtime_error("TLS handshake failed");
    verified_ = SSL_get_verify_result(ssl_) == X509_V_OK;
  }
  ~Connection() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    close(fd_);
  }
  bool verified() const { return verified_; }

  Response exchange(const std::string& method, const std::string& target, const std::string& body = {},
                    const std::string& token = {}) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port_of()) + "\r\n";
    if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
    if (!body.empty())
      req += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    req += "\r\n" + body;
    write_all(req);
    return read_response();
  }

 private:
  std::uint16_t port_of() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
  }
  void write_all(const std::string& s) {
    std::size_t done = 0;
    while (done < s.size()) {
      const long n = ssl_ ? SSL_write(ssl_, s.data() + done, static_cast<int>(s.size() - done))
                          : ::send(fd_, s.data() + done, s.size() - done, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("write failed");
      done += static_cast<std::size_t>(n);
    }
  }
  long read_some(char* buf, std::size_t n) {
    return ssl_ ? SSL_read(ssl_, buf, static_cast<int>(n)) : ::recv(fd_, buf, n, 0);
  }
  Response read_response() {
    Response r;
    std::size_t header_end;
    while ((header_end = pending_.find("\r\n\r\n")) == std::string::npos) {
      char buf[65536];
      const long n = read_some(buf, sizeof buf);
      if (n <= 0) return r;
      r.any_bytes = true;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    r.any_bytes = true;
    std::istringstream head(pending_.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    r.status = std::stoi(line.substr(9, 3));
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    pending_.erase(0, header_end + 4);
    const std::size_t length = std::stoul(r.headers["content-length"]);
    while (pending_.size() < length) {
      char buf[65536];
      const long n = read_some(buf, sizeof buf);
      if (n <= 0) break;
      pending_.append(buf, static_cast<std::size_t>(n));
    }
    r.complete = pending_.size() >= length;
    r.body = pending_.substr(0, std::min(length, pending_.size()));
    pending_.erase(0, r.body.size());
    return r;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool verified_ = false;
  std::string pending_;
};

const std::string token_form = "grant_type=client_credentials&client_id=c1&scope=" +
                               percent_encode("https://api.securitycenter.microsoft.com/.default") +
                               "&client_secret=s3cret";

std::string access_token(const Response& r) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(r.body).get(e) != simdjson::SUCCESS) return {};
  std::string_view t;
  if (e["access_token"].get(t) != simdjson::SUCCESS) return {};
  return std::string(t);
}

TEST(Smoke, TokenAndOnePageOverPlainHttpWithKeepAlive) {
  mdesync::testing::TempDir dir;
  Simulator sim(dir, {"--log-requests"});
  Connection c(sim.port());
  const Response tok = c.exchange("POST", "/t1/oauth2/v2.0/token", token_form);
  ASSERT_EQ(tok.status, 200) << tok.body;
  const std::string token = access_token(tok);
  ASSERT_FALSE(token.empty());
  // Same connection: keep-alive.
  const Response page = c.exchange("GET", "/api/machines/SoftwareInventoryByMachine?pageSize=5", {}, token);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_TRUE(page.complete);
  EXPECT_TRUE(page.headers.count("date"));
  simdjson::dom::parser p;
  simdjson::dom::object o = p.parse(page.body);
  EXPECT_EQ(simdjson::dom::array(o["value"]).size(), 5u);
  const std::string_view next = o["@odata.nextLink"];
  EXPECT_TRUE(next.starts_with("http://127.0.0.1:" + std::to_string(sim.port()) +
                               "/api/machines/SoftwareInventoryByMachine?pagesize=5&$skiptoken="));

  EXPECT_NE(sim.stdout_text().find("mde-fakeapi listening on http://127.0.0.1:" + std::to_string(sim.port())),
            std::string::npos);
  const Response stats = c.exchange("GET", "/_admin/stats");
  EXPECT_NE(stats.body.find("\"tokens_issued\":1"), std::string::npos) << stats.body;
  EXPECT_EQ(sim.stop(), 0);
  // The request log names paths, never query strings or the token.
  const std::string log = slurp(dir.path() / "stderr");
  EXPECT_NE(log.find("path=/api/machines/SoftwareInventoryByMachine status=200"), std::string::npos) << log;
  EXPECT_EQ(log.find("pageSize"), std::string::npos);
  EXPECT_EQ(log.find(token), std::string::npos);
}

TEST(Smoke, WireFaultsResetAndTruncateTheConnection) {
  mdesync::testing::TempDir dir;
  Simulator sim(dir, {"--fault-reset-rate", "1"});
  std::string token;
  {
    Connection c(sim.port());
    token = access_token(c.exchange("POST", "/t1/oauth2/v2.0/token", token_form));
    ASSERT_FALSE(token.empty());
    const Response r = c.exchange("GET", "/api/machines/SoftwareInventoryByMachine", {}, token);
    EXPECT_FALSE(r.any_bytes) << "closed without an answer";
  }
  {
    Connection c(sim.port());
    EXPECT_EQ(c.exchange("POST", "/_admin/faults?fault-reset-rate=0&fault-truncate-rate=1").status, 200);
    const Response r = c.exchange("GET", "/api/machines/SoftwareInventoryByMachine", {}, token);
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.complete);
    EXPECT_GT(r.body.size(), 0u);
  }
}

TEST(Smoke, EmptyExportFileIsContentLengthZeroOnTheWire) {
  mdesync::testing::TempDir dir;
  Simulator sim(dir, {"--export-layout", "rbac", "--fault-export-empty-rate", "1", "--fault-count", "1"});
  Connection c(sim.port());
  const std::string token = access_token(c.exchange("POST", "/t1/oauth2/v2.0/token", token_form));
  ASSERT_FALSE(token.empty());
  const Response exp = c.exchange("GET", "/api/machines/SoftwareInventoryExport", {}, token);
  ASSERT_EQ(exp.status, 200) << exp.body;
  simdjson::dom::parser p;
  const std::string_view url = simdjson::dom::array(p.parse(exp.body)["exportFiles"]).at(0);
  // The rbac names ("/OrgId=t1/_RbacGroupId=n/...") travel as they are.
  const std::string target(url.substr(url.find("/_blob/")));
  EXPECT_NE(target.find("/OrgId=t1/_RbacGroupId="), std::string::npos) << target;
  const Response empty = c.exchange("GET", target);
  ASSERT_TRUE(empty.headers.count("content-length"));
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.headers.at("content-length"), "0");
  EXPECT_TRUE(empty.complete);
  EXPECT_TRUE(empty.body.empty());
  // fault-count 1: the same connection then gets the file.
  const Response full = c.exchange("GET", target);
  EXPECT_EQ(full.status, 200);
  EXPECT_TRUE(full.complete);
  ASSERT_GT(full.body.size(), 2u);
  EXPECT_EQ(full.body.substr(0, 2), "\x1f\x8b");
}

TEST(Smoke, GeneratedCertificateServesHttpsToAClientTrustingCaOut) {
  mdesync::testing::TempDir dir;
  const std::string ca = (dir.path() / "ca.pem").string();
  Simulator sim(dir, {"--tls", "--ca-out", ca});
  ASSERT_TRUE(fs::exists(ca));
  Connection c(sim.port(), ca);
  EXPECT_TRUE(c.verified());
  const Response tok = c.exchange("POST", "/t1/oauth2/v2.0/token", token_form);
  ASSERT_EQ(tok.status, 200) << tok.body;
  const Response page = c.exchange("GET", "/api/machines/SoftwareInventoryNoProductCodeByMachine?$top=2", {},
                                   access_token(tok));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("\"@odata.context\":\"https://127.0.0.1:"), std::string::npos);
  EXPECT_NE(sim.stdout_text().find("mde-fakeapi listening on https://127.0.0.1:"), std::string::npos);
}

TEST(Smoke, RefusesPlainHttpOffLoopbackAndBadFlags) {
  const std::string bin = std::string(MDESYNC_BIN_DIR) + "/mde-fakeapi";
  EXPECT_NE(std::system((bin + " --listen 0.0.0.0:0 >/dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((bin + " --no-such-flag >/dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((bin + " --fault-5xx-rate 3 >/dev/null 2>&1").c_str()), 0);
  EXPECT_EQ(std::system((bin + " --help >/dev/null 2>&1").c_str()), 0);
}

}  // namespace
}  // namespace mdesync::fakeapi
