#pragma once
// A running Azurite blob service (Microsoft's Azure Storage emulator) for one test.
#include <memory>
#include <optional>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::testing {

// HTTPS instead of http: Azurite serves with this certificate and private key
// (PEM files, Azurite's --cert and --key), as Blob Storage always does.
struct AzuriteTls {
  std::string certificate_file;
  std::string private_key_file;
};

class AzuriteServer {
 public:
  // Starts $MDESYNC_AZURITE (the azurite-blob executable scripts/test installs)
  // on 127.0.0.1 at a free port, its data in a fresh temp dir, and waits, bounded,
  // until the port accepts connections. When the variable is unset, names no
  // executable, or Azurite does not come up, the test fails (ADD_FAILURE, with
  // Azurite's output) and this throws: a missing emulator is never a skip.
  explicit AzuriteServer(std::optional<AzuriteTls> tls = std::nullopt);
  ~AzuriteServer();  // SIGTERM, then SIGKILL
  AzuriteServer(const AzuriteServer&) = delete;
  AzuriteServer& operator=(const AzuriteServer&) = delete;

  // http://127.0.0.1:PORT/devstoreaccount1, https:// with TLS (path-style: the
  // account is the first segment). With a `domain`, the URL Azure hands out
  // (account.blob.core.windows.net): https://devstoreaccount1.DOMAIN:PORT, the
  // account the host's first label, for a name only a test proxy resolves.
  std::string account_url(const std::string& domain = {}) const;
  int port() const { return port_; }
  std::string output() const;

 private:
  enum class Start { up, exited, timed_out };
  Start start(const std::string& executable);

  std::optional<AzuriteTls> tls_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

}  // namespace mdesync::testing
