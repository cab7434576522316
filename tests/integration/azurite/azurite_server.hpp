#pragma once
// A running Azurite blob service (Microsoft's Azure Storage emulator) for one test.
#include <memory>
#include <string>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::testing {

class AzuriteServer {
 public:
  // Starts $MDESYNC_AZURITE (the azurite-blob executable scripts/test installs)
  // on 127.0.0.1 at a free port, its data in a fresh temp dir, and waits, bounded,
  // until the port accepts connections. When the variable is unset, names no
  // executable, or Azurite does not come up, the test fails (ADD_FAILURE, with
  // Azurite's output) and this throws: a missing emulator is never a skip.
  AzuriteServer();
  ~AzuriteServer();  // SIGTERM, then SIGKILL
  AzuriteServer(const AzuriteServer&) = delete;
  AzuriteServer& operator=(const AzuriteServer&) = delete;

  // http://127.0.0.1:PORT/devstoreaccount1 (path-style: the account is the first segment).
  std::string account_url() const;
  std::string output() const;

 private:
  enum class Start { up, exited, timed_out };
  Start start(const std::string& executable);

  TempDir dir_;
  std::unique_ptr<Process> process_;
  int port_ = 0;
};

}  // namespace mdesync::testing
