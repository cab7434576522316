#include "daemon/commands.hpp"

#include <pqxx/except>

#include <cstdio>
#include <iostream>
#include <optional>

#include "config/config.hpp"
#include "api/proxy_report.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "daemon/tenant_session.hpp"
#include "core/url.hpp"
#include "core/json_escape.hpp"
#include "core/timestamp.hpp"
#include "schedule/planner.hpp"
#include "schedule/pull.hpp"
#include "store/connection.hpp"
#include "store/distribution.hpp"
#include "store/migrations.hpp"
#include "store/sync_store.hpp"

namespace mdesync::commands {
namespace {

// Where a tenant's tokens come from, and the fix when that place does not answer.
struct TokenOrigin {
  std::string where;
  std::string fix;
};

TokenOrigin token_origin(const config::Config& cfg, const config::TenantOptions& tenant) {
  using config::SecretKind;
  if (tenant.secret.kind != SecretKind::managed_identity)
    return {Url::parse(tenant.token_url).origin() +
                (tenant.secret.kind == SecretKind::workload_identity ? " (workload identity)" : ""),
            api::network_fix(cfg, tenant.token_url)};
  const auto endpoint = Url::parse(tenant.secret.identity_endpoint);
  if (tenant.secret.identity_protocol == config::IdentityProtocol::app_service)
    return {endpoint.origin() + " (managed identity, IDENTITY_ENDPOINT)",
            "the identity endpoint App Service or Container Apps announced in IDENTITY_ENDPOINT does not answer; "
            "check that a managed identity is enabled for the app"};
  return {endpoint.origin() + " (managed identity, instance metadata)",
          "nothing answers at " + endpoint.origin() +
              ": run on an Azure VM, scale set or AKS node with a managed identity, or use another auth"};
}

}  // namespace

std::optional<config::Config> load_config(const cli::Command& cmd) {
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

namespace {

store::DistributionChoice distribution_choice(config::Distribution d) {
  switch (d) {
    case config::Distribution::none: return store::DistributionChoice::none;
    case config::Distribution::citus: return store::DistributionChoice::citus;
    case config::Distribution::automatic: break;
  }
  return store::DistributionChoice::automatic;
}

}  // namespace

store::MigrationResult prepare_schema(pqxx::connection_base& conn, const config::Config& cfg, bool convert_existing) {
  const auto r = store::migrate(conn, cfg.database.schema);
  const auto d =
      store::distribute(conn, cfg.database.schema, distribution_choice(cfg.database.distribution), convert_existing);
  for (const auto& table : d.changed) log::info("distributed on citus", {{"table", table}});
  if (!d.left_plain.empty())
    log::warn("not distributed on citus",
              {{"schema", cfg.database.schema}, {"reason", "the schema holds rows (" + d.left_plain + ")"},
               {"fix", "mdesync migrate --distribute converts it; database.distribution: none keeps it plain"}});
  return r;
}

int migrate(const cli::Command& cmd) {
  const auto cfg = load_config(cmd);
  if (!cfg) return cli::exit_config;
  try {
    store::Connection conn(cfg->database.url);
    const auto op = conn.operation("migrating the schema", store::migration_operation);
    const auto r = prepare_schema(conn, *cfg, cmd.distribute);
    log::info("migrated", {{"schema", cfg->database.schema}, {"applied", r.applied}, {"version", r.version},
                           {"citus", store::is_distributed(conn, cfg->database.schema)}});
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
  const auto cfg = load_config(cmd);
  if (!cfg) return cli::exit_config;
  bool ok = true;
  auto report = [&](bool good, const std::string& what, const std::string& detail) {
    ok = ok && good;
    std::cout << (good ? "ok    " : "FAIL  ") << what << ": " << detail << "\n";
  };
  report(true, "config", cmd.config_path + " (" + std::to_string(cfg->tenants.size()) + " tenants)");
  const auto proxy = api::proxy_report(*cfg, cmd.tenant);
  report(proxy.ok, "proxy", proxy.detail);
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
      const TokenOrigin origin = token_origin(*cfg, tenant);
      try {
        session.tokens().token();
        report(true, who + " token", "obtained from " + origin.where);
      } catch (const Error& e) {
        const bool answered = e.kind() == ErrorKind::auth || e.kind() == ErrorKind::config;
        report(false, who + " token", std::string(e.what()) + (answered ? "" : "; fix: " + origin.fix));
        continue;
      }
      for (const auto ds : tenant.datasets) {
        const std::string what = who + " " + std::string(model::spec(ds).name);
        try {
          session.api().get(session.api().first_page_url(ds, 1, std::nullopt, 1), ratelimit::Family::json);
          report(true, what, "API answered; Software.Read.All is granted");
        } catch (const Error& e) {
          const bool answered = e.kind() == ErrorKind::auth || e.kind() == ErrorKind::config;
          report(false, what,
                 std::string(e.what()) + (answered ? "" : "; fix: " + api::network_fix(*cfg, tenant.api_url)));
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
  const auto cfg = load_config(cmd);
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
    const auto op = store->connection().operation("migrating the schema", store::migration_operation);
    prepare_schema(store->connection(), *cfg);
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
      if (out.unrecorded) {
        // The pull's connection was given up: record its end on a new one, if
        // the database answers within the connection's deadlines; else the next
        // run marks the row abandoned.
        try {
          store = std::make_unique<store::SyncStore>(cfg->database.url, cfg->database.schema);
          schedule::record_outcome(*store, out);
        } catch (const std::exception& e) {
          log::error("run not recorded", {{"tenant", tenant.name}, {"dataset", model::spec(ds).name},
                                          {"run", out.run_id}, {"error", e.what()}});
          return cli::exit_failure;
        }
      }
    }
  }
  return all_ok ? cli::exit_ok : cli::exit_failure;
}

int status(const cli::Command& cmd) {
  const auto cfg = load_config(cmd);
  if (!cfg) return cli::exit_config;
  std::unique_ptr<store::SyncStore> store;
  try {
    store = std::make_unique<store::SyncStore>(cfg->database.url, cfg->database.schema);
    if (store::schema_version(store->connection(), cfg->database.schema) == 0) {
      std::cerr << "mdesync status: schema " << cfg->database.schema << " does not exist yet; run mdesync migrate\n";
      return cli::exit_database;
    }
  } catch (const std::exception& e) {
    log::error("database unreachable", {{"error", e.what()}});
    return cli::exit_database;
  }
  const auto time_text = [](const std::optional<SystemTime>& t) { return t ? format_iso8601_utc(*t) : std::string(); };
  const schedule::Intervals intervals{cfg->sync.incremental_interval, cfg->sync.full_interval};
  const auto now = RealClock::instance().now_utc();
  std::string json = "[";
  if (!cmd.json)
    std::printf("%-20s %-7s %-11s %-10s %-24s %10s %10s %10s %-24s %-12s %-24s\n", "TENANT", "DATASET", "LAST MODE",
              "OUTCOME", "FINISHED", "RECEIVED", "UPSERTED", "REMOVED", "WATERMARK", "NEXT", "NEXT DUE");
  for (const auto& tenant : cfg->tenants) {
    for (const auto ds : tenant.datasets) {
      const std::string dataset(model::spec(ds).name);
      const auto state = store->state(tenant.name, ds);
      const auto run = store->last_run(tenant.name, ds);
      const auto plan = schedule::next_run(state, intervals, now, schedule::jitter_for(tenant.name, ds, intervals));
      const std::string outcome = run ? run->status : "never run";
      if (cmd.json) {
        auto field = [&json](const char* key, const std::string& value, bool last = false) {
          json += std::string("\"") + key + "\":";
          if (value.empty()) {
            json += "null";
          } else {
            json += '"';
            append_json_escaped(json, value);
            json += '"';
          }
          if (!last) json += ',';
        };
        if (json.size() > 1) json += ',';
        json += '{';
        field("tenant", tenant.name);
        field("dataset", dataset);
        field("last_mode", run ? run->mode : "");
        field("last_status", run ? run->status : "");
        field("last_started_at", run ? time_text(run->started_at) : "");
        field("last_finished_at", run ? time_text(run->finished_at) : "");
        json += "\"rows_received\":" + std::to_string(run ? run->counts.received : 0) + ",";
        json += "\"rows_upserted\":" + std::to_string(run ? run->counts.upserted : 0) + ",";
        json += "\"rows_removed\":" + std::to_string(run ? run->counts.removed : 0) + ",";
        json += "\"rows_rejected\":" + std::to_string(run ? run->counts.rejected : 0) + ",";
        field("last_error", run ? run->error : "");
        field("watermark", time_text(state.watermark));
        field("last_full_at", time_text(state.last_full_at));
        field("last_incremental_at", time_text(state.last_incremental_at));
        field("next_mode", store::to_string(plan.mode));
        field("next_due_at", format_iso8601_utc(plan.due), true);
        json += '}';
      } else {
        std::printf("%-20s %-7s %-11s %-10s %-24s %10llu %10llu %10llu %-24s %-12s %-24s\n", tenant.name.c_str(),
                    dataset.c_str(), run ? run->mode.c_str() : "-", outcome.c_str(),
                    run ? time_text(run->finished_at).c_str() : "-",
                    static_cast<unsigned long long>(run ? run->counts.received : 0),
                    static_cast<unsigned long long>(run ? run->counts.upserted : 0),
                    static_cast<unsigned long long>(run ? run->counts.removed : 0),
                    state.watermark ? time_text(state.watermark).c_str() : "-", store::to_string(plan.mode),
                    format_iso8601_utc(plan.due).c_str());
        if (run && !run->error.empty()) std::printf("  last error: %s\n", run->error.c_str());
      }
    }
  }
  if (cmd.json) std::printf("%s]\n", json.c_str());
  return cli::exit_ok;
}

}  // namespace mdesync::commands
