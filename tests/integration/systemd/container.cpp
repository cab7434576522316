#include "container.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;

// Preparing may debootstrap (about three minutes, more on a slow mirror).
constexpr auto prepare_timeout = 20min;
// A minimal Debian boots in a few seconds; a loaded CI machine is slower.
constexpr auto boot_timeout = 120s;
constexpr auto poweroff_timeout = 30s;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// "PPid:" of /proc/PID/status, or -1.
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("PPid:", 0) == 0) return static_cast<pid_t>(std::stol(line.substr(5)));
  return -1;
}

// True when PID is 1 in the innermost PID namespace it lives in (NSpid's last field).
bool is_namespace_init(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream fields(line.substr(6));
    std::string last, f;
    int count = 0;
    while (fields >> f) {
      last = f;
      ++count;
    }
    return count >= 2 && last == "1";
  }
  return false;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (parent_of(pid) == parent) found.push_back(pid);
  }
  return found;
}

}  // namespace

std::string program_path(const std::string& name, const std::string& package) {
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  dirs += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::istringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error(name + " is missing (Debian package " + package + ")");
}

SystemdRoot prepare_systemd_root() {
  if (::geteuid() != 0)
    throw std::runtime_error("booting a container needs root (systemd-nspawn, nsenter): run scripts/test as root");
  const auto r = run({std::string(MDESYNC_SOURCE_DIR) + "/scripts/systemd-root", MDESYNC_BUILD_DIR}, prepare_timeout);
  SystemdRoot prepared;
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("root=", 0) == 0) prepared.root = line.substr(5);
    else if (line.rfind("deb=", 0) == 0) prepared.deb = line.substr(4);
    else std::cerr << line << "\n";  // what it did: a debootstrap, a package build
  }
  if (r.exit_code != 0 || prepared.root.empty() || prepared.deb.empty())
    throw std::runtime_error("scripts/systemd-root failed (exit " + std::to_string(r.exit_code) + "):\n" + r.output);
  return prepared;
}

Container::Container(const std::filesystem::path& root) {
  // setpriv: the PID namespace's keeper dies with the test process, however it dies.
  // unshare --pid --fork --kill-child: systemd-nspawn is PID 1 of a new PID
  //   namespace, so when it dies the kernel kills the container's processes too
  //   (killing systemd-nspawn alone would leave the container's systemd running);
  //   --mount-proc gives that namespace its own /proc and mount namespace.
  // The tmpfs on /run/systemd/nspawn keeps nspawn's host-side runtime files
  //   (propagation directory, locks) private to that mount namespace.
  // --volatile=overlay: every write lands in a tmpfs over the cached root.
  // --register=no --keep-unit: there is no systemd-machined nor host systemd to talk to.
  const std::vector<std::string> argv = {
      program_path("setpriv", "util-linux"), "--pdeathsig", "KILL", "--",
      program_path("unshare", "util-linux"), "--pid", "--fork", "--kill-child=KILL", "--mount-proc", "--",
      "/bin/sh", "-c",
      "mkdir -p /run/systemd/nspawn && mount -t tmpfs -o mode=0755 tmpfs /run/systemd/nspawn && "
      "exec \"$0\" \"$@\"",
      program_path("systemd-nspawn", "systemd-container"), "--quiet", "--register=no", "--keep-unit",
      "--machine=mdesync-test", "--volatile=overlay", "--directory=" + root.string(), "--boot"};
  program_path("nsenter", "util-linux");
  nspawn_ = std::make_unique<Process>(argv, dir_.path() / "console.log");

  // unshare -> systemd-nspawn (PID 1 of its namespace) -> systemd (PID 1 of the container's).
  const auto deadline = std::chrono::steady_clock::now() + boot_timeout;
  while (init_ < 0 && std::chrono::steady_clock::now() < deadline) {
    if (!nspawn_->running()) throw std::runtime_error("systemd-nspawn exited during boot:\n" + console());
    for (pid_t nspawn : children_of(nspawn_->pid()))
      for (pid_t init : children_of(nspawn))
        if (is_namespace_init(init) && read_file("/proc/" + std::to_string(init) + "/comm") == "systemd\n")
          init_ = init;
    if (init_ < 0) std::this_thread::sleep_for(50ms);
  }
  if (init_ < 0) throw std::runtime_error("no systemd came up in the container:\n" + console());

  // --wait returns once start-up finished; it fails while systemd's private socket
  // is not there yet, so try again until the deadline.
  std::string state;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto r = exec({"systemctl", "is-system-running", "--wait"}, boot_timeout);
    state = trim(r.output);
    if (state == "running" || state == "degraded") return;
    if (!nspawn_->running()) break;
    std::this_thread::sleep_for(200ms);
  }
  const auto failed = exec({"systemctl", "--no-pager", "--failed"}).output;
  poweroff();
  throw std::runtime_error("the container did not finish booting (state \"" + state + "\"):\n" + failed + "\n" +
                           console());
}

Container::~Container() { poweroff(); }

void Container::poweroff() {
  if (!nspawn_ || !nspawn_->running()) return;
  if (init_ > 0) exec({"systemctl", "poweroff"}, 10s);
  if (nspawn_->wait(poweroff_timeout) < 0) {
    // Killing the namespace's keeper takes everything inside down with it.
    nspawn_->kill(SIGKILL);
    nspawn_->wait(10s);
  }
}

RunResult Container::exec(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  std::vector<std::string> full = {program_path("nsenter", "util-linux"), "--target", std::to_string(init_), "--all",
                                   "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full, timeout, {"SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "SYSTEMD_URLIFY=0", "PAGER=cat"});
}

RunResult Container::systemctl(std::vector<std::string> args) {
  args.insert(args.begin(), {"systemctl", "--no-pager"});
  return exec(args);
}

std::string Container::show(const std::string& unit, const std::string& property) {
  return trim(exec({"systemctl", "show", "--property=" + property, "--value", unit}).output);
}

std::string Container::journal(const std::string& unit, int lines) {
  std::vector<std::string> argv = {"journalctl", "--no-pager", "--no-hostname", "--output=short-monotonic",
                                   "--unit=" + unit};
  if (lines > 0) argv.push_back("--lines=" + std::to_string(lines));
  return exec(argv).output;
}

void Container::write_file(const std::string& path, const std::string& text, std::filesystem::perms perms) {
  const std::filesystem::path target = "/proc/" + std::to_string(init_) + "/root" + path;
  std::filesystem::create_directories(target.parent_path());
  {
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path + " in the container");
  }
  std::filesystem::permissions(target, perms);
}

void Container::install_deb(const std::filesystem::path& deb) {
  const std::string inside = "/root/" + deb.filename().string();
  write_file(inside, read_file(deb), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto r = exec({"dpkg", "--install", inside}, 120s);
  if (r.exit_code != 0) throw std::runtime_error("dpkg --install " + deb.filename().string() + " failed:\n" + r.output);
  exec({"systemctl", "daemon-reload"});
}

std::string Container::console() { return read_file(dir_.path() / "console.log"); }

}  // namespace mdesync::testing
