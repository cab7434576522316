// Never stuck, never silent (issue 13): a black-hole proxy stops forwarding
// between mdesync and PostgreSQL, the API or storage without closing anything,
// as a firewall that dropped its state does. `mdesync sync` must give up within
// sync.stall_timeout + 30 s and apply nothing; `mdesync run` must turn /healthz
// 503 and stop feeding the watchdog, then recover by itself once the path works.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "http/client.hpp"
#include "store/identifiers.hpp"
#include "support/blackhole_proxy.hpp"
#include "support/fake_api.hpp"
#include "support/test_database.hpp"
#include "support/truth.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;
using model::Dataset;
using Steady = std::chrono::steady_clock;

constexpr auto stall_timeout = 30s;
// What the issue allows between the stall and the failure (or the 503).
constexpr auto allowed = stall_timeout + 30s;

std::string in_schema(const TempSchema& s, const std::string& table) { return "\"" + s.name() + "\"." + table; }

// The test database's port (its URL is postgresql://user@127.0.0.1:PORT/db).
int database_port() {
  const std::string url = database_url();
  const auto colon = url.find(':', url.find('@'));
  return std::stoi(url.substr(colon + 1));
}

// The test database's URL with its host and port replaced by the proxy's.
std::string through(const BlackholeProxy& proxy) {
  std::string url = database_url();
  const auto at = url.find('@') + 1;
  const auto slash = url.find('/', at);
  return url.replace(at, slash - at, "127.0.0.1:" + std::to_string(proxy.port()));
}

int port_of(const std::string& base_url) { return std::stoi(base_url.substr(base_url.rfind(':') + 1)); }

long long count_or_zero(const std::string& sql) {
  try {
    return std::stoll(query_value(sql));
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = Steady::now() + limit;
  while (Steady::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return done();
}

// Which path goes silent.
enum class Path { database, api, storage };
const char* name(Path p) { return p == Path::database ? "database" : p == Path::api ? "api" : "storage"; }

// One simulator and three proxies: PostgreSQL, the API and storage each behind one.
struct World {
  TempSchema schema{"stall"};
  TempDir dir;
  FakeApi api;
  BlackholeProxy db{"127.0.0.1", database_port()};
  BlackholeProxy api_proxy;
  BlackholeProxy storage_proxy;

  // The simulator's quotas are off: they are not what these tests are about.
  static std::vector<std::string> unpaced(std::vector<std::string> flags) {
    for (const char* f : {"--json-per-minute", "0", "--json-per-hour", "0", "--export-per-minute", "0",
                          "--export-per-hour", "0"})
      flags.push_back(f);
    return flags;
  }

  explicit World(std::vector<std::string> flags, int devices = 100)
      : api(unpaced(std::move(flags)), devices),
        api_proxy("127.0.0.1", port_of(api.base_url())),
        storage_proxy("127.0.0.1", port_of(api.base_url())) {
    api.admin_post("/_admin/blob-base?url=http://127.0.0.1:" + std::to_string(storage_proxy.port()));
  }

  BlackholeProxy& proxy(Path p) { return p == Path::database ? db : p == Path::api ? api_proxy : storage_proxy; }

  std::filesystem::path config(const std::string& full_via, std::string extra_sync = {}, std::string extra = {}) {
    ConfigOptions o{.schema = schema.name(), .full_via = full_via, .page_size = 20};
    o.database_url = through(db);
    o.api_url = "http://127.0.0.1:" + std::to_string(api_proxy.port());
    o.extra_sync = "  stall_timeout: 30s\n  download_concurrency: 1\n" + extra_sync;
    o.extra = "limits:\n  json_per_minute: 100000\n  json_per_hour: 1000000\n"
              "  export_per_minute: 100000\n  export_per_hour: 1000000\n" + extra;
    return write_config(dir, api, o);
  }

  std::string table(Dataset ds) const { return in_schema(schema, std::string(model::spec(ds).table)); }
};

// The moment to make `path` silent in the middle of a run, and which run.
struct Scenario {
  Path path;
  std::string full_via;
};

class StalledSync : public ::testing::TestWithParam<Scenario> {};

TEST_P(StalledSync, GivesUpWithinTheStallTimeoutAppliesNothingAndTheNextRunConverges) {
  const auto [path, full_via] = GetParam();
  // Pages are slow (200 ms each), so a full JSON sync lasts about 20 s.
  World w({"--fault-slow-rate", "1", "--fault-slow-ms", "200", "--export-files", "10"}, 100);
  const auto config = w.config(full_via);
  if (path == Path::storage) w.proxy(path).blackhole();  // silent from the first download on
  Process sync({mdesync_binary(), "sync", "--dataset", "cpe", "--config", config.string()},
               w.dir.path() / "stalled.log");
  if (path != Path::storage) {
    // Mid-run: once some pages are staged.
    const std::string stage = in_schema(w.schema, store::stage_table("cpe", "contoso"));
    ASSERT_TRUE(wait_until([&] { return count_or_zero("SELECT count(*) FROM " + stage) >= 100; }, 60s))
        << read_file(w.dir.path() / "stalled.log");
    w.proxy(path).blackhole();
  }
  const auto silent_at = Steady::now();
  const int exit_code = sync.wait(allowed + 30s);
  const auto took = Steady::now() - silent_at;
  const auto log = read_file(w.dir.path() / "stalled.log");
  ASSERT_NE(exit_code, -1) << name(path) << ": still running " << allowed.count() + 30 << " s after the outage\n"
                           << log;
  EXPECT_NE(exit_code, 0) << log;
  EXPECT_LE(took, allowed) << name(path) << ": gave up after "
                           << std::chrono::duration_cast<std::chrono::seconds>(took).count() << " s\n"
                           << log;
  // The message names the stalled step, or the operation PostgreSQL did not answer.
  EXPECT_TRUE(log.find("no progress for 30s while") != std::string::npos ||
              log.find("did not answer within") != std::string::npos)
      << log;
  std::cout << "[ stall ] " << name(path) << " (" << full_via << "): gave up after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  // Nothing partial applied, no watermark.
  EXPECT_EQ(query_value("SELECT count(*) FROM " + w.table(Dataset::cpe)), "0");
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(w.schema, "sync_state")), "0");

  // The path works again: the next run converges.
  w.proxy(path).resume();
  w.api.admin_post("/_admin/faults?fault-slow-rate=0");
  const auto again = run_mdesync(config, {"sync", "--dataset", "cpe"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  expect_table_equals_truth(w.api, w.schema.name(), Dataset::cpe);
  // The stalled run is on record: failed with its reason, or abandoned by the next run.
  EXPECT_EQ(query_value("SELECT count(*) FROM " + in_schema(w.schema, "sync_runs") +
                        " WHERE status IN ('failed', 'abandoned')"),
            "1");
}

INSTANTIATE_TEST_SUITE_P(Paths, StalledSync,
                         ::testing::Values(Scenario{Path::database, "json"}, Scenario{Path::api, "json"},
                                           Scenario{Path::storage, "export"}),
                         [](const auto& info) { return std::string(name(info.param.path)); });

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind notify");
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    reader_ = std::thread([this] {
      char buf[4096];
      while (!stop_) {
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) continue;
        std::lock_guard lock(mutex_);
        if (std::string_view(buf, static_cast<std::size_t>(n)).find("WATCHDOG=1") != std::string_view::npos)
          pings_.push_back(Steady::now());
      }
    });
  }
  ~NotifySocket() {
    stop_ = true;
    reader_.join();
    ::close(fd_);
  }
  std::size_t pings_since(Steady::time_point t) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(pings_.begin(), pings_.end(), [t](auto p) { return p >= t; }));
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread reader_;
  mutable std::mutex mutex_;
  std::vector<Steady::time_point> pings_;
};

http::Response get(const std::string& url) {
  http::Client client;
  http::Request request;
  request.url = url;
  return client.send(request);
}

class StalledDaemon : public ::testing::TestWithParam<Path> {};

TEST_P(StalledDaemon, TurnsUnhealthyStopsFeedingTheWatchdogAndRecoversByItself) {
  const Path path = GetParam();
  World w({"--export-files", "3"}, 40);
  const int port = free_loopback_port();
  const auto config =
      w.config(path == Path::storage ? "export" : "json", "  incremental_interval: 5s\n  full_interval: 1h\n",
               "metrics:\n  listen: 127.0.0.1:" + std::to_string(port) + "\n");
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const auto notify_path = w.dir.path() / "notify";
  NotifySocket notify(notify_path);
  // The API and storage paths are silent from the start: the first (full) pull stalls.
  if (path != Path::database) w.proxy(path).blackhole();
  Process daemon({mdesync_binary(), "run", "--config", config.string()}, w.dir.path() / "run.log",
                 {"NOTIFY_SOCKET=" + notify_path.string(), "WATCHDOG_USEC=2000000"});
  const auto healthy = [&] {
    try {
      return get(base + "/healthz").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  };
  if (path == Path::database) {
    ASSERT_TRUE(wait_until(healthy, 60s)) << read_file(w.dir.path() / "run.log");
    ASSERT_TRUE(wait_until([&] { return notify.pings_since(Steady::now() - 3s) > 0; }, 10s));
    w.proxy(path).blackhole();
  }
  const auto silent_at = Steady::now();
  http::Response health;
  ASSERT_TRUE(wait_until(
      [&] {
        try {
          health = get(base + "/healthz");
        } catch (const std::exception&) {
          return false;
        }
        return health.status == 503 && health.body.find("contoso/") != std::string::npos &&
               (health.body.find("stalled") != std::string::npos ||
                health.body.find("did not answer") != std::string::npos);
      },
      allowed))
      << name(path) << ": /healthz still says " << health.status << " " << health.body << "\n"
      << read_file(w.dir.path() / "run.log");
  std::cout << "[ stall ] daemon, " << name(path) << ": /healthz 503 after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - silent_at).count()
            << " ms: " << health.body << "\n";
  const auto metrics = get(base + "/metrics").body;
  EXPECT_NE(metrics.find("mdesync_up 0"), std::string::npos) << metrics;
  EXPECT_TRUE(metrics.find("mdesync_stalled{dataset=\"cpe\",tenant=\"contoso\"} 1") != std::string::npos ||
              metrics.find("mdesync_stalled{dataset=\"noncpe\",tenant=\"contoso\"} 1") != std::string::npos)
      << metrics;
  // No WATCHDOG=1 while stalled (the daemon pings every second when fed).
  std::this_thread::sleep_for(2s);
  const auto quiet_from = Steady::now();
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(notify.pings_since(quiet_from), 0u) << "the watchdog was fed while stalled";

  // The path works again: without a restart, the tables converge and health returns.
  w.proxy(path).resume();
  const auto resumed_at = Steady::now();
  // New installs: what an incremental pull brings (removals wait for the next full snapshot).
  w.api.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&installs=5&uninstalls=0&upgrades=0&seed=8");
  EXPECT_TRUE(wait_until(
      [&] {
        return healthy() &&
               compare_with_truth(w.schema.name(), "contoso", Dataset::cpe, w.api.truth("cpe")).equal() &&
               compare_with_truth(w.schema.name(), "contoso", Dataset::noncpe, w.api.truth("noncpe")).equal();
      },
      180s))
      << read_file(w.dir.path() / "run.log");
  std::cout << "[ stall ] daemon, " << name(path) << ": recovered "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - resumed_at).count()
            << " ms after the path came back\n";
  EXPECT_TRUE(wait_until([&] { return notify.pings_since(Steady::now() - 3s) > 0; }, 10s))
      << "the watchdog is not fed again";
  EXPECT_TRUE(daemon.running()) << "the daemon restarted or died";
  daemon.kill(SIGTERM);
  EXPECT_EQ(daemon.wait(60s), 0) << read_file(w.dir.path() / "run.log");
}

INSTANTIATE_TEST_SUITE_P(Paths, StalledDaemon, ::testing::Values(Path::database, Path::api, Path::storage),
                         [](const auto& info) { return std::string(name(info.param)); });

}  // namespace
}  // namespace mdesync::testing
