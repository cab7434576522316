#pragma once
#include "daemon/cli.hpp"

namespace mdesync::commands {

int migrate(const cli::Command& cmd);
int check(const cli::Command& cmd);
int sync(const cli::Command& cmd);

}  // namespace mdesync::commands
