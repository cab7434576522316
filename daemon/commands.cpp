#include "daemon/commands.hpp"

#include <pqxx/except>

#include <cstdio>
#include <iostream>
#include <optional>

#include "config/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "daemon/tenant_session.hpp"
#include "http/url.hpp"
#include "schedule/pull.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"

namespace mdesync::commands {
namespace {

std::optional<config::Config> load(const cli::Command& cmd) {
  try {
    auto cfg = config::load_file(cmd.config_path);
    log::Level level = log::Level::info;
    switch (cfg.log.level) {
      case config::LogLevel::debug: level = log::Level::debug; break;
      case config::LogLevel::info: level = log::Level::info; break;
      case config::LogLevel::warn: level = log::Level::warn; break;
      case config::LogLevel::error: level = log::Level::error; break;
    }
    const auto format = cfg.log.format == config::LogFormat::json ? log::Format::json : log::Format::text;
    // journald stamps every line itself.
    log::configure(level, format, std::getenv("JOURNAL_STREAM") == nullptr);
    return cfg;
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
}

// The fix a person needs for a failure that is not the API's own words.
std::string network_fix(const std::string& url) {
  return "check that this machine can reach " + http::Url::parse(url).origin() +
         " (DNS, firewall, proxy) and that http.ca_file is set if a private CA signs its certificate";
}

}  // namespace

int migrate(const cli::Command& cmd) {
  const auto cfg = load(cmd);
  if (!cfg) return cli::exit_config;
  try {
    store::Connection conn(cfg->database.url);
    const auto r = store::migrate(conn, cfg->database.schema);
    log::info("migrated", {{"schema", cfg->database.schema}, {"applied", r.applied}, {"version", r.version}});
    return cli::exit_ok;
  } catch (const pqxx::broken_connection& e) {
    log::error("database unreachable", {{"error", e.what()}});
    return cli::exit_database;
  } catch (const std::exception& e) {
    log::error("migration failed", {{"schema", cfg->database.schema}, {"error", e.what()}});
    return cli::exit_database;
  }
}

int check(const cli::Command& cmd) {
  const auto cfg = load(cmd);
  if (!cfg) return cli::exit_config;
  bool ok = true;
  auto report = [&](bool good, const std::string& what, const std::string& detail) {
    ok = ok && good;
    std::cout << (good ? "ok    " : "FAIL  ") << what << ": " << detail << "\n";
  };
  report(true, "config", cmd.config_path + " (" + std::to_string(cfg->tenants.size()) + " tenants)");
  try {
    store::Connection conn(cfg->database.url);
    report(true, "database", "connected");
    const int version = store::schema_version(conn, cfg->database.schema);
    if (version == store::latest_version())
      report(true, "schema", cfg->database.schema + " at version " + std::to_string(version));
    else
      report(false, "schema", cfg->database.schema + " at version " + std::to_string(version) + ", expected " +
                                  std::to_string(store::latest_version()) + "; fix: run mdesync migrate --config " +
                                  cmd.config_path + " (sync does it too)");
  } catch (const std::exception& e) {
    report(false, "database", std::string(e.what()) +
                                  "; fix: check database.url, that PostgreSQL is running and accepts this user");
  }
  const RealClock& clock = RealClock::instance();
  for (const auto& tenant : cfg->tenants) {
    if (!cmd.tenant.empty() && tenant.name != cmd.tenant) continue;
    const std::string who = "tenant " + tenant.name;
    try {
      // A check answers quickly: one retry, not a sync's patient backoff.
      api::RetryPolicy quick;
      quick.max_attempts = 2;
      quick.max_throttled = 2;
      quick.backoff_base = std::chrono::milliseconds(200);
      TenantSession session(*cfg, tenant, clock, quick);
      try {
        session.tokens().token();
        report(true, who + " token", "obtained from " + http::Url::parse(tenant.token_url).origin());
      } catch (const Error& e) {
        report(false, who + " token",
               std::string(e.what()) + (e.kind() == ErrorKind::auth ? "" : "; fix: " + network_fix(tenant.token_url)));
        continue;
      }
      for (const auto ds : tenant.datasets) {
        const std::string what = who + " " + std::string(model::spec(ds).name);
        try {
          session.api().get(session.api().first_page_url(ds, 1, std::nullopt, 1), ratelimit::Family::json);
          report(true, what, "API answered; Software.Read.All is granted");
        } catch (const Error& e) {
          report(false, what,
                 std::string(e.what()) + (e.kind() == ErrorKind::auth ? "" : "; fix: " + network_fix(tenant.api_url)));
        }
      }
    } catch (const config::ConfigError& e) {
      report(false, who + " secret", e.what());
    } catch (const std::exception& e) {
      report(false, who, e.what());
    }
  }
  return ok ? cli::exit_ok : cli::exit_failure;
}

int sync(const cli::Command& cmd) {
  const auto cfg = load(cmd);
  if (!cfg) return cli::exit_config;
  std::optional<model::Dataset> only_dataset;
  if (!cmd.dataset.empty()) only_dataset = model::parse_dataset(cmd.dataset);
  std::optional<store::RunMode> mode;
  if (cmd.mode == "full") mode = store::RunMode::full;
  if (cmd.mode == "incremental") mode = store::RunMode::incremental;
  if (!cmd.tenant.empty() && cfg->find_tenant(cmd.tenant) == nullptr) {
    std::cerr << "mdesync sync: no tenant named '" << cmd.tenant << "' in " << cmd.config_path << "\n";
    return cli::exit_usage;
  }

  std::unique_ptr<store::SyncStore> store;
  try {
    store = std::make_unique<store::SyncStore>(cfg->database.url, cfg->database.schema);
    store::migrate(store->connection(), cfg->database.schema);
  } catch (const std::exception& e) {
    log::error("database unreachable", {{"error", e.what()}});
    return cli::exit_database;
  }

  const RealClock& clock = RealClock::instance();
  bool all_ok = true;
  for (const auto& tenant : cfg->tenants) {
    if (!cmd.tenant.empty() && tenant.name != cmd.tenant) continue;
    std::unique_ptr<TenantSession> session;
    try {
      session = std::make_unique<TenantSession>(*cfg, tenant, clock);
    } catch (const std::exception& e) {
      // One tenant's broken credentials never stop the others.
      log::error("tenant skipped", {{"tenant", tenant.name}, {"error", e.what()}});
      all_ok = false;
      continue;
    }
    for (const auto ds : tenant.datasets) {
      if (only_dataset && ds != *only_dataset) continue;
      schedule::PullContext ctx{*cfg, tenant, session->api(), *store, clock};
      const auto out = schedule::run_pull(ctx, {ds, mode, cmd.force});
      std::printf("%s %s %s %s rows=%llu upserted=%llu removed=%llu rejected=%llu duration_ms=%lld%s%s\n",
                  tenant.name.c_str(), std::string(model::spec(ds).name).c_str(), store::to_string(out.mode),
                  out.skipped ? "skipped" : store::to_string(out.status),
                  static_cast<unsigned long long>(out.counts.received),
                  static_cast<unsigned long long>(out.counts.upserted),
                  static_cast<unsigned long long>(out.counts.removed),
                  static_cast<unsigned long long>(out.counts.rejected), static_cast<long long>(out.duration.count()),
                  out.error.empty() ? "" : " error=", out.error.c_str());
      std::fflush(stdout);
      if (out.skipped || out.status != store::RunStatus::succeeded) all_ok = false;
    }
  }
  return all_ok ? cli::exit_ok : cli::exit_failure;
}

}  // namespace mdesync::commands
