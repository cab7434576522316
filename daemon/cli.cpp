#include "daemon/cli.hpp"

#include <set>

namespace mdesync::cli {
namespace {

// Subcommands exist only once they work; each lists the options it takes.
struct Spec {
  const char* name;
  std::set<std::string> options;
  bool needs_config;
};

const Spec specs[] = {
    {"migrate", {"--config", "--distribute"}, true},
    {"check", {"--config", "--tenant"}, true},
    {"sync", {"--config", "--mode", "--dataset", "--tenant", "--force"}, true},
    {"run", {"--config"}, true},
    {"status", {"--config", "--json"}, true},
};

const Spec* find(const std::string& name) {
  for (const auto& s : specs)
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace

std::string usage() {
  return "usage: mdesync COMMAND [OPTIONS]\n"
         "\n"
         "Keeps Microsoft Defender for Endpoint software inventories in PostgreSQL.\n"
         "\n"
         "commands:\n"
         "  migrate --config FILE [--distribute]\n"
         "                          create or upgrade the database schema, then exit; on Citus,\n"
         "                          --distribute converts an installation that holds rows\n"
         "  run --config FILE       the service: schedules incremental pulls and full snapshots for\n"
         "                          every tenant; SIGHUP reloads the config, SIGTERM stops\n"
         "  status --config FILE [--json]\n"
         "                          per tenant and data set: last run and outcome, rows, watermark,\n"
         "                          next due time\n"
         "  check --config FILE [--tenant NAME]\n"
         "                          prove the setup: config, database, schema, a token per tenant,\n"
         "                          one API call per data set; one line per check with the fix\n"
         "  sync --config FILE [--mode full|incremental] [--dataset cpe|noncpe] [--tenant NAME] [--force]\n"
         "                          one pass over the tenants; exit 0 only if every pull succeeded;\n"
         "                          --force applies a snapshot held back by the mass-removal guard\n"
         "\n"
         "options:\n"
         "  --config FILE           the YAML configuration (see config/mdesync.example.yaml)\n"
         "  -h, --help              show this help\n"
         "  --version               show the version\n"
         "\n"
         "exit codes: 0 ok, 1 failure, 2 usage, 3 invalid config, 4 database unreachable\n";
}

ParseResult parse(const std::vector<std::string>& args) {
  ParseResult result;
  if (args.empty()) {
    result.error = "no command given";
    return result;
  }
  Command cmd;
  std::size_t i = 0;
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    cmd.name = "help";
    result.command = cmd;
    return result;
  }
  if (args[0] == "--version" || args[0] == "version") {
    cmd.name = "version";
    result.command = cmd;
    return result;
  }
  const Spec* spec = find(args[0]);
  if (spec == nullptr) {
    result.error = "unknown command '" + args[0] + "'";
    return result;
  }
  cmd.name = args[0];
  for (i = 1; i < args.size(); ++i) {
    std::string opt = args[i];
    std::string value;
    bool has_inline = false;
    if (const auto eq = opt.find('='); opt.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
      has_inline = true;
    }
    if (opt == "-h" || opt == "--help") {
      cmd.name = "help";
      result.command = cmd;
      return result;
    }
    if (spec->options.count(opt) == 0) {
      result.error = "mdesync " + cmd.name + ": unknown option '" + opt + "'";
      return result;
    }
    const bool is_flag = opt == "--force" || opt == "--json" || opt == "--distribute";
    if (is_flag) {
      if (has_inline) {
        result.error = "mdesync " + cmd.name + ": " + opt + " takes no value";
        return result;
      }
      (opt == "--force" ? cmd.force : opt == "--json" ? cmd.json : cmd.distribute) = true;
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size()) {
        result.error = "mdesync " + cmd.name + ": " + opt + " needs a value";
        return result;
      }
      value = args[++i];
    }
    if (opt == "--config") cmd.config_path = value;
    else if (opt == "--mode") cmd.mode = value;
    else if (opt == "--dataset") cmd.dataset = value;
    else if (opt == "--tenant") cmd.tenant = value;
  }
  if (!cmd.mode.empty() && cmd.mode != "full" && cmd.mode != "incremental") {
    result.error = "mdesync " + cmd.name + ": --mode must be full or incremental, got '" + cmd.mode + "'";
    return result;
  }
  if (!cmd.dataset.empty() && cmd.dataset != "cpe" && cmd.dataset != "noncpe") {
    result.error = "mdesync " + cmd.name + ": --dataset must be cpe or noncpe, got '" + cmd.dataset + "'";
    return result;
  }
  if (spec->needs_config && cmd.config_path.empty()) {
    result.error = "mdesync " + cmd.name + ": --config FILE is required";
    return result;
  }
  result.command = cmd;
  return result;
}

}  // namespace mdesync::cli
