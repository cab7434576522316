#include "azurite_server.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "account_sas.hpp"

namespace mdesync::testing {
namespace {

// Node loads Azurite's ~300 modules before it listens: seconds on a busy machine.
constexpr auto start_timeout = std::chrono::seconds(60);
// A free port can be taken by someone else between our close and Azurite's bind.
constexpr int start_attempts = 3;

sockaddr_in loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

AzuriteServer::AzuriteServer(std::optional<AzuriteTls> tls) : tls_(std::move(tls)) {
  const char* executable = std::getenv("MDESYNC_AZURITE");
  if (executable == nullptr || *executable == '\0' || ::access(executable, X_OK) != 0) {
    ADD_FAILURE() << "MDESYNC_AZURITE must name the azurite-blob executable (scripts/test installs it under "
                     "build/azurite); it is "
                  << (executable ? "'" + std::string(executable) + "', which is not executable" : "unset");
    throw std::runtime_error("Azurite is not installed");
  }
  Start result = Start::exited;
  for (int attempt = 0; attempt < start_attempts && result == Start::exited; ++attempt) {
    result = start(executable);
    if (result == Start::up) return;
  }
  ADD_FAILURE() << "Azurite (" << executable << ") "
                << (result == Start::timed_out ? "did not accept connections within " +
                                                     std::to_string(start_timeout.count()) + " s"
                                               : "exited at start " + std::to_string(start_attempts) + " times")
                << "; its output:\n"
                << output();
  throw std::runtime_error("Azurite did not start");
}

AzuriteServer::Start AzuriteServer::start(const std::string& executable) {
  port_ = free_loopback_port();
  std::vector<std::string> argv{executable, "--blobHost", "127.0.0.1", "--blobPort", std::to_string(port_),
                                "--location", dir_.path().string(),
                                "--silent",               // no access log
                                "--skipApiVersionCheck",  // our x-ms-version need not be one this release knows
                                "--loose",                // ignore headers the emulator does not implement
                                "--disableTelemetry"};    // a test sends nothing off the machine
  if (tls_) argv.insert(argv.end(), {"--cert", tls_->certificate_file, "--key", tls_->private_key_file});
  process_ = std::make_unique<Process>(std::move(argv), dir_.path() / "azurite.log");
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (accepts_connections(port_)) return Start::up;
    if (!process_->running()) return Start::exited;  // port taken, or a broken install: the log says which
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  process_->kill(SIGKILL);
  process_->wait(std::chrono::seconds(10));
  return Start::timed_out;
}

AzuriteServer::~AzuriteServer() {
  if (!process_) return;
  process_->kill(SIGTERM);
  if (process_->wait(std::chrono::seconds(10)) < 0) process_->kill(SIGKILL);
}

std::string AzuriteServer::account_url(const std::string& domain) const {
  const std::string scheme = tls_ ? "https://" : "http://";
  const std::string port = ":" + std::to_string(port_);
  if (domain.empty()) return scheme + "127.0.0.1" + port + "/" + std::string(azurite_account);
  return scheme + std::string(azurite_account) + "." + domain + port;
}

std::string AzuriteServer::output() const { return read_file(dir_.path() / "azurite.log"); }

}  // namespace mdesync::testing
