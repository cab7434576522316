#pragma once
#include "daemon/cli.hpp"

namespace mdesync::commands {

// `mdesync run`: the long-running service. Returns the process exit code.
int run(const cli::Command& cmd);

}  // namespace mdesync::commands
