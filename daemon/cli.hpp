#pragma once
// Command-line parsing: argv -> one Command. No I/O here beyond returning text.
#include <optional>
#include <string>
#include <vector>

namespace mdesync::cli {

// Exit codes are a contract for scripts and acceptance tests.
enum ExitCode : int {
  exit_ok = 0,
  exit_failure = 1,   // the command ran and something failed (a sync, a check)
  exit_usage = 2,     // bad command line
  exit_config = 3,    // the configuration file is invalid
  exit_database = 4,  // the database could not be reached or migrated
};

struct Command {
  std::string name;  // help | version | migrate | ...
  std::string config_path;
  std::string mode;     // sync: full | incremental | "" (automatic)
  std::string dataset;  // sync: cpe | noncpe | "" (all configured)
  std::string tenant;   // sync: one tenant or "" (all)
  bool force = false;
  bool json = false;
  bool distribute = false;  // migrate: convert an existing installation for Citus
};

struct ParseResult {
  std::optional<Command> command;
  std::string error;  // set when command is empty
};

ParseResult parse(const std::vector<std::string>& args);

std::string usage();

}  // namespace mdesync::cli
