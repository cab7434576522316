// systemd/mdesync.service under a real systemd: the .deb that CPack makes is
// installed in a booted Debian 12 container, configured for the simulator and
// PostgreSQL on the host, and driven with systemctl. Each test boots its own
// container (a few seconds), so each proves one thing from a clean start.
//
// The container config sets sync.stall_timeout (30s), which the watchdog test
// needs. MDESYNC_SYSTEMD_STALL_TIMEOUT overrides it; set it to the empty string
// to leave the key out (for an mdesync that does not know it yet).
//
// The container holds only what the .deb depends on, plus systemd;
// MDESYNC_SYSTEMD_EXTRA_PACKAGES="procps ..." adds packages (scripts/systemd-root).
//
// Needs root and a machine that can boot a container; anywhere else these tests
// fail with the reason. Run them alone: BUILD_DIR=... scripts/test -L systemd
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdlib>
#include <functional>
#include <iostream>
#include <regex>
#include <thread>

#include "container.hpp"
#include "support/fake_api.hpp"
#include "support/test_database.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto config_perms = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                              fs::perms::others_read;
constexpr auto secret_perms = fs::perms::owner_read | fs::perms::owner_write;
// The unit says WatchdogSec=2min; the test cannot wait that long.
constexpr const char* watchdog_sec = "20s";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Polls `done` every `every` until it holds or `limit` passes.
bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit, std::chrono::milliseconds every = 500ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "  stall_timeout: 30s\n", another value from the environment, or nothing.
std::string stall_timeout_line() {
  const char* value = std::getenv("MDESYNC_SYSTEMD_STALL_TIMEOUT");
  const std::string v = value ? value : "30s";
  return v.empty() ? std::string() : "  stall_timeout: " + v + "\n";
}

// The URL of the suite's PostgreSQL with its host and port replaced.
std::string with_host_port(const std::string& url, const std::string& host_port) {
  static const std::regex authority(R"(^(postgres(?:ql)?://(?:[^@/]*@)?)[^/?]*(.*)$)");
  std::smatch m;
  if (!std::regex_match(url, m, authority)) throw std::runtime_error("cannot parse the database URL " + url);
  return m[1].str() + host_port + m[2].str();
}

std::string database_host_port() {
  static const std::regex authority(R"(^postgres(?:ql)?://(?:[^@/]*@)?([^/?]+).*$)");
  std::smatch m;
  const auto url = database_url();
  if (!std::regex_match(url, m, authority)) throw std::runtime_error("no host:port in the database URL " + url);
  return m[1];
}

class SystemdUnit : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto prepare_start = std::chrono::steady_clock::now();
    const auto prepared = prepare_systemd_root();
    std::cerr << "root and package ready in " << seconds_since(prepare_start) << " s\n";
    const auto boot_start = std::chrono::steady_clock::now();
    container_ = std::make_unique<Container>(prepared.root);
    container_->install_deb(prepared.deb);
    std::cerr << "container booted and mdesync installed in " << seconds_since(boot_start) << " s\n";
  }

  void TearDown() override {
    if (HasFailure() && container_) {
      std::cerr << "--- systemctl status mdesync\n" << container_->systemctl({"status", "mdesync"}).output
                << "--- journalctl -u mdesync (last 80 lines)\n" << container_->journal("mdesync", 80);
    }
    // A proxy still black-holing would hold the service's shutdown for its grace
    // period; killed, it closes every connection and the container stops at once.
    proxy_.reset();
  }

  // /etc/mdesync/mdesync.yaml for the simulator, with the database at `url`, and
  // the secret where LoadCredential=contoso: reads it.
  void configure(const std::string& url, const std::string& extra_tenant = "") {
    ConfigOptions o{.schema = schema_.name()};
    o.page_size = 500;
    o.secret_file = "${CREDENTIALS_DIRECTORY}/contoso";
    o.extra_tenant = extra_tenant;
    o.extra_sync = "  incremental_interval: 2s\n  full_interval: 1h\n" + stall_timeout_line();
    o.extra = "limits:\n  json_per_minute: 1000\n  json_per_hour: 100000\n";
    std::string yaml = read_file(write_config(dir_, api_, o));
    const auto at = yaml.find(database_url());
    if (at == std::string::npos) throw std::runtime_error("write_config did not use database_url()");
    yaml.replace(at, database_url().size(), url);
    container_->write_file("/etc/mdesync/mdesync.yaml", yaml, config_perms);
    container_->write_file("/etc/mdesync/credentials/contoso", read_file(api_.secret_file()), secret_perms);
  }

  std::string show(const std::string& property) { return container_->show("mdesync.service", property); }

  std::string runs_where(const std::string& condition) {
    return query_value("SELECT count(*) FROM \"" + schema_.name() + "\".sync_runs WHERE " + condition);
  }
  long long last_run_id() {
    const auto v = query_value("SELECT coalesce(max(id), 0) FROM \"" + schema_.name() + "\".sync_runs");
    return std::stoll(v);
  }
  // A run of `tenant` that succeeded after run `after`.
  bool succeeded_after(long long after, const std::string& tenant = "contoso") {
    try {
      return runs_where("status = 'succeeded' AND tenant = '" + tenant + "' AND id > " + std::to_string(after)) != "0";
    } catch (const std::exception&) {
      return false;  // the schema is not there yet
    }
  }

  // systemctl start (Type=notify: it returns once mdesync sent READY=1), then
  // waits until both data sets had their first sync.
  void start() {
    const auto started = std::chrono::steady_clock::now();
    const auto r = container_->systemctl({"start", "mdesync"});
    const auto why = r.exit_code == 0 ? std::string() : container_->journal("mdesync", 5);
    ASSERT_EQ(r.exit_code, 0) << r.output << why
                              << (contains(why, "stall_timeout: unknown key")
                                      ? "this mdesync has no sync.stall_timeout yet; MDESYNC_SYSTEMD_STALL_TIMEOUT= "
                                        "(empty) leaves the key out\n"
                                      : "");
    const bool synced = wait_until([&] {
      const auto text = show("StatusText");
      return contains(text, "contoso/cpe: succeeded") && contains(text, "contoso/noncpe: succeeded");
    }, 120s);
    ASSERT_TRUE(synced) << "StatusText=" << show("StatusText");
    std::cerr << "started and synced both data sets in " << seconds_since(started) << " s\n";
  }

  TempSchema schema_{"sysd"};
  // No simulator quotas: the unit syncs every 2 s for minutes.
  FakeApi api_{{"--json-per-minute", "0", "--json-per-hour", "0", "--export-per-minute", "0", "--export-per-hour", "0"},
               20};
  TempDir dir_;
  std::unique_ptr<Process> proxy_;  // mdesync-blackhole in the watchdog test; TearDown kills it
  std::unique_ptr<Container> container_;
};

// (a)
TEST_F(SystemdUnit, ReachesActiveRunningAndReportsItsSyncsInStatusText) {
  configure(database_url());
  ASSERT_NO_FATAL_FAILURE(start());
  EXPECT_EQ(show("ActiveState"), "active");
  EXPECT_EQ(show("SubState"), "running");
  const auto status = container_->systemctl({"status", "mdesync"}).output;
  EXPECT_TRUE(contains(status, "Active: active (running)")) << status;
  // STATUS= from mdesync: the last outcome per tenant and data set.
  EXPECT_TRUE(std::regex_search(show("StatusText"), std::regex("contoso/cpe: succeeded [0-9]{4}-"))) << show("StatusText");
  EXPECT_GE(std::stoi(runs_where("status = 'succeeded'")), 2);
  // DynamicUser=yes: not root.
  const auto uid = show("UID");
  EXPECT_FALSE(uid.empty() || uid == "0" || uid == "[not set]") << "UID=" << uid;
}

// (b)
TEST_F(SystemdUnit, ReloadKeepsTheMainPidAndTheServiceKeepsSyncing) {
  configure(database_url());
  ASSERT_NO_FATAL_FAILURE(start());
  const auto pid = show("MainPID");
  const auto before = last_run_id();

  // The reloaded config adds a tenant (same simulator client): its runs prove the
  // new file was read, and the old tenant's runs that syncing went on.
  configure(database_url(), "  - name: fabrikam\n    tenant_id: \"" + fake_tenant_id + "\"\n    client_id: \"" +
                                fake_client_id + "\"\n    client_secret_file: ${CREDENTIALS_DIRECTORY}/contoso\n" +
                                "    api_url: " + api_.base_url() + "\n    token_url: " + api_.base_url() + "/" +
                                fake_tenant_id + "/oauth2/v2.0/token\n");
  const auto r = container_->systemctl({"reload", "mdesync"});
  const auto why = r.exit_code == 0 ? std::string() : container_->journal("mdesync", 15);
  ASSERT_EQ(r.exit_code, 0) << r.output << why
                            << (contains(why, "/bin/kill: No such file")
                                    ? "ExecReload= runs /bin/kill (Debian package procps), which the .deb does not "
                                      "depend on\n"
                                    : "");
  EXPECT_EQ(show("MainPID"), pid);
  EXPECT_TRUE(wait_until([&] { return contains(container_->journal("mdesync"), "event=\"config reloaded\""); }, 20s));
  EXPECT_TRUE(wait_until([&] { return succeeded_after(before, "fabrikam"); }, 90s)) << "the added tenant never synced";
  const auto after_reload = last_run_id();
  EXPECT_TRUE(wait_until([&] { return succeeded_after(after_reload, "contoso"); }, 60s)) << "syncing stopped";
  EXPECT_EQ(show("MainPID"), pid);
  EXPECT_EQ(show("NRestarts"), "0");
  EXPECT_EQ(show("ActiveState"), "active");
}

// (c)
TEST_F(SystemdUnit, WatchdogRestartsTheServiceWhenTheDatabaseBlackholesAndItSyncsAgainAfter) {
  // PostgreSQL through mdesync-blackhole, the program the shell tests use too.
  const auto port_file = dir_.path() / "proxy.port";
  const auto state_file = dir_.path() / "proxy.state";
  // Under a parent-death signal, like the container: a killed test leaves no proxy behind.
  proxy_ = std::make_unique<Process>(
      std::vector<std::string>{program_path("setpriv", "util-linux"), "--pdeathsig", "TERM", "--",
                               std::string(MDESYNC_BIN_DIR) + "/mdesync-blackhole", "--listen-port-file",
                               port_file.string(), "--upstream", database_host_port(), "--state-file",
                               state_file.string()},
      dir_.path() / "proxy.log");
  auto proxy_state = [&](const std::string& want) {
    return wait_until([&] { return read_file(state_file) == want + "\n"; }, 10s, 20ms);
  };
  ASSERT_TRUE(proxy_state("forwarding")) << read_file(dir_.path() / "proxy.log");
  const auto proxy_port = std::stoi(read_file(port_file));
  configure(with_host_port(database_url(), "127.0.0.1:" + std::to_string(proxy_port)));

  container_->write_file("/etc/systemd/system/mdesync.service.d/watchdog.conf",
                         std::string("# The test's watchdog: short enough to wait for.\n[Service]\nWatchdogSec=") +
                             watchdog_sec + "\n",
                         config_perms);
  container_->exec({"systemctl", "daemon-reload"});
  ASSERT_NO_FATAL_FAILURE(start());
  ASSERT_EQ(show("WatchdogUSec"), watchdog_sec);  // systemd fills it in when the service starts
  const auto pid = show("MainPID");
  const auto restarts = std::stoi(show("NRestarts"));
  const auto before = last_run_id();

  // The database goes silent: pulls hang on their connection, no error ever comes.
  proxy_->kill(SIGUSR1);
  ASSERT_TRUE(proxy_state("blackholed"));
  const auto outage = std::chrono::steady_clock::now();
  // stall_timeout (30s) for mdesync to stop its WATCHDOG=1 pings, WatchdogSec for
  // systemd to notice, RestartSec=10s to restart: about a minute; allow three.
  const bool restarted = wait_until([&] { return std::stoi("0" + show("NRestarts")) > restarts; }, 180s, 1s);
  ASSERT_TRUE(restarted) << "no restart within 180 s of the database black hole (MainPID " << pid << " -> "
                         << show("MainPID") << ", NRestarts " << show("NRestarts")
                         << "): mdesync kept pinging the watchdog while its pull was stalled";
  std::cerr << "restarted by systemd " << seconds_since(outage) << " s after the black hole\n";
  const auto journal = container_->journal("mdesync");
  EXPECT_TRUE(contains(journal, "Watchdog timeout")) << "restarted, but not by the watchdog";

  // The database comes back: the restarted service syncs again by itself.
  proxy_->kill(SIGUSR2);
  ASSERT_TRUE(proxy_state("forwarding"));
  const auto back = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return succeeded_after(before); }, 240s, 1s))
      << "no successful run within 240 s after the database came back";
  std::cerr << "synced again " << seconds_since(back) << " s after the database came back\n";
  EXPECT_EQ(show("ActiveState"), "active");
  EXPECT_NE(show("MainPID"), pid);
}

// (d)
TEST_F(SystemdUnit, StopEndsWithExitStatusZeroAndResultSuccess) {
  configure(database_url());
  ASSERT_NO_FATAL_FAILURE(start());
  const auto r = container_->systemctl({"stop", "mdesync"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(show("ActiveState"), "inactive");
  EXPECT_EQ(show("ExecMainStatus"), "0");
  EXPECT_EQ(show("Result"), "success");
  EXPECT_TRUE(contains(container_->journal("mdesync"), "event=\"daemon stopped\""));
  EXPECT_EQ(runs_where("status = 'running'"), "0") << "a run was left running";
}

// (e)
TEST_F(SystemdUnit, SystemdAnalyzeSecurityRatesTheUnitAtMostTwo) {
  const auto r = container_->exec({"systemd-analyze", "security", "--no-pager", "mdesync.service"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"(Overall exposure level for mdesync\.service: ([0-9.]+))")))
      << r.output;
  const double exposure = std::stod(m[1]);
  std::cerr << "exposure " << exposure << "\n";
  EXPECT_LE(exposure, 2.0) << r.output;
}

}  // namespace
}  // namespace mdesync::testing
