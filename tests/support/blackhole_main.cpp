// mdesync-blackhole: BlackholeProxy as a program, for tests written in shell or
// driving mdesync from outside the test process (the systemd unit test).
//
//   mdesync-blackhole --listen-port-file FILE --upstream HOST:PORT [--state-file FILE]
//
// Control is by signal, since every language can send one: SIGUSR1 black-holes,
// SIGUSR2 resumes, SIGHUP closes every connection, SIGTERM/SIGINT exit 0.
// Signals are asynchronous, so the program rewrites --state-file ("forwarding"
// or "blackholed") once a command has taken effect; a test that must know waits
// for the word. Both files are written
// atomically (temp file + rename), so a reader never sees half a number.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "support/blackhole_proxy.hpp"

namespace {

int usage(const char* why) {
  std::cerr << "mdesync-blackhole: " << why << "\n"
            << "usage: mdesync-blackhole --listen-port-file FILE --upstream HOST:PORT [--state-file FILE]\n"
            << "  SIGUSR1: black-hole every connection, SIGUSR2: forward new ones again,\n"
            << "  SIGHUP: close every connection, SIGTERM: exit\n";
  return 2;
}

bool write_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text << "\n";
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

}  // namespace

int main(int argc, char** argv) {
  std::string port_file, upstream, state_file;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + a).c_str());
    if (a == "--listen-port-file") port_file = argv[++i];
    else if (a == "--upstream") upstream = argv[++i];
    else if (a == "--state-file") state_file = argv[++i];
    else return usage(("unknown argument " + a).c_str());
  }
  const auto colon = upstream.rfind(':');
  if (port_file.empty() || colon == std::string::npos || colon == 0) return usage("need --listen-port-file and --upstream HOST:PORT");
  std::string host = upstream.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(upstream.substr(colon + 1));
  } catch (const std::exception&) {
    return usage("bad upstream port");
  }

  // Blocked before the proxy starts its threads, so they inherit the mask and
  // only sigwait below ever sees these signals.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  try {
    mdesync::testing::BlackholeProxy proxy(host, port);
    auto report = [&](const char* state) {
      if (!state_file.empty() && !write_atomically(state_file, state))
        std::cerr << "mdesync-blackhole: cannot write " << state_file << "\n";
      std::cerr << "mdesync-blackhole: " << state << " (127.0.0.1:" << proxy.port() << " -> " << upstream << ")"
                << std::endl;
    };
    report("forwarding");
    if (!write_atomically(port_file, std::to_string(proxy.port()))) {
      std::cerr << "mdesync-blackhole: cannot write " << port_file << "\n";
      return 1;
    }
    for (;;) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGUSR1) {
        proxy.blackhole();
        report("blackholed");
      } else if (sig == SIGUSR2) {
        proxy.resume();
        report("forwarding");
      } else if (sig == SIGHUP) {
        proxy.close_all();
        std::cerr << "mdesync-blackhole: closed every connection" << std::endl;
      } else {
        break;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "mdesync-blackhole: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
