#pragma once
#include <optional>

#include <pqxx/connection_base>

#include "config/config.hpp"
#include "daemon/cli.hpp"
#include "store/migrations.hpp"

namespace mdesync::commands {

// Loads the config named on the command line and sets up logging from it;
// prints every problem and returns nullopt when the file is invalid.
std::optional<config::Config> load_config(const cli::Command& cmd);

// Applies the missing migrations, then lays the schema out for Citus when
// database.distribution calls for it (see store/distribution.hpp); an
// installation holding rows is converted only with `convert_existing`.
store::MigrationResult prepare_schema(pqxx::connection_base& conn, const config::Config& cfg,
                                      bool convert_existing = false);

int migrate(const cli::Command& cmd);
int check(const cli::Command& cmd);
int sync(const cli::Command& cmd);
int status(const cli::Command& cmd);

}  // namespace mdesync::commands
