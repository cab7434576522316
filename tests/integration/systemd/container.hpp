#pragma once
// A Debian 12 container booted with systemd as its PID 1 (systemd-nspawn), for
// testing mdesync's unit under a real service manager on a machine whose own
// PID 1 is not systemd. It shares the host's network, so the service inside
// reaches the simulator and PostgreSQL on 127.0.0.1.
//
// Invariants:
//  - the cached root (scripts/systemd-root) is never written: the container runs
//    with --volatile=overlay, its changes live in a tmpfs that dies with it;
//  - nothing outlives the test process: systemd-nspawn runs as PID 1 of a PID
//    namespace of its own (unshare --kill-child), under a parent-death signal,
//    so even a SIGKILLed test takes every container process down with it, and
//    its mounts with its mount namespace;
//  - a failure to prepare or boot throws with the reason (never a skip).
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::testing {

struct SystemdRoot {
  std::filesystem::path root;  // the debootstrapped tree
  std::filesystem::path deb;   // mdesync_<version>_<arch>.deb, made by CPack
};

// Runs scripts/systemd-root for this build tree (debootstrap once, about three
// minutes; CPack); throws with its output when it fails.
SystemdRoot prepare_systemd_root();

class Container {
 public:
  // Boots `root` and waits until systemd reports the system running.
  explicit Container(const std::filesystem::path& root);
  // Powers the container off, or kills it when that takes too long.
  ~Container();
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  // Runs a command inside every namespace of the container (nsenter -a).
  RunResult exec(std::vector<std::string> argv, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // systemctl --no-pager ARGS...
  RunResult systemctl(std::vector<std::string> args);
  // One property of a unit (systemctl show -p NAME --value), without the newline.
  std::string show(const std::string& unit, const std::string& property);
  // The unit's journal, oldest first; `lines` = 0 for all of it.
  std::string journal(const std::string& unit, int lines = 0);

  // Writes a file inside the container (through /proc/PID/root), creating its directories.
  void write_file(const std::string& path, const std::string& text, std::filesystem::perms perms);
  // dpkg -i, then daemon-reload (the package has no maintainer scripts that would).
  void install_deb(const std::filesystem::path& deb);

  // The boot console and systemd-nspawn's own messages so far.
  std::string console();

 private:
  void poweroff();

  TempDir dir_;
  std::unique_ptr<Process> nspawn_;
  pid_t init_ = -1;  // the container's PID 1, as the host numbers it
};

// The absolute path of a program found in PATH or the sbin directories; throws
// naming the Debian package that has it when it is missing.
std::string program_path(const std::string& name, const std::string& package);

}  // namespace mdesync::testing
