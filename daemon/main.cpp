// mdesync: argv -> command -> exit code. The engine lives in lib/.
#include <iostream>
#include <string>
#include <vector>

#include "daemon/cli.hpp"
#include "daemon/commands.hpp"
#include "daemon/run.hpp"

int main(int argc, char** argv) {
  using namespace mdesync;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto parsed = cli::parse(args);
  if (!parsed.command) {
    std::cerr << "mdesync: " << parsed.error << "\n\n" << cli::usage();
    return cli::exit_usage;
  }
  const auto& cmd = *parsed.command;
  if (cmd.name == "help") {
    std::cout << cli::usage();
    return cli::exit_ok;
  }
  if (cmd.name == "version") {
    std::cout << "mdesync " << MDESYNC_VERSION << "\n";
    return cli::exit_ok;
  }
  if (cmd.name == "migrate") return commands::migrate(cmd);
  if (cmd.name == "check") return commands::check(cmd);
  if (cmd.name == "sync") return commands::sync(cmd);
  if (cmd.name == "run") return commands::run(cmd);
  if (cmd.name == "status") return commands::status(cmd);
  std::cerr << "mdesync: command '" << cmd.name << "' is not available\n";
  return cli::exit_usage;
}
