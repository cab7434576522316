#pragma once
// Child processes for integration tests: the simulator and the mdesync binary.
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>
#include <sys/types.h>

namespace mdesync::testing {

class Process {
 public:
  // Starts argv[0] with stdout and stderr appended to `output_file`.
  Process(std::vector<std::string> argv, const std::filesystem::path& output_file,
          std::vector<std::string> extra_env = {});
  ~Process();  // SIGKILLs a child that is still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void kill(int signal);
  // Waits for the exit; returns the exit status, 128+signal for a signal, -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::minutes(5));
  // Peak resident memory of the exited child, in KiB (from wait4's rusage).
  long max_rss_kb() const { return max_rss_kb_; }

 private:
  long max_rss_kb_ = 0;
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

struct RunResult {
  int exit_code = -1;
  long max_rss_kb = 0;
  std::string output;  // stdout and stderr interleaved
};

// Runs a command to completion and captures what it printed.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::minutes(5),
              std::vector<std::string> extra_env = {});

std::string read_file(const std::filesystem::path& path);

// A TCP port the kernel just handed out on 127.0.0.1, closed again for a child
// to bind (the child still fails loudly should another process take it first).
int free_loopback_port();

}  // namespace mdesync::testing
