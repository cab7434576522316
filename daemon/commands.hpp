#pragma once
#include <optional>

#include "config/config.hpp"
#include "daemon/cli.hpp"

namespace mdesync::commands {

// Loads the config named on the command line and sets up logging from it;
// prints every problem and returns nullopt when the file is invalid.
std::optional<config::Config> load_config(const cli::Command& cmd);

int migrate(const cli::Command& cmd);
int check(const cli::Command& cmd);
int sync(const cli::Command& cmd);
int status(const cli::Command& cmd);

}  // namespace mdesync::commands
