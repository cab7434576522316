// kill -9 at random moments of full syncs (export and JSON) and incremental syncs.
// After every kill: a full sync left the old snapshot or the new one, never a mix,
// and that was so at every moment a reader looked while it ran; an incremental sync
// left only rows of the old or the new truth, and its watermark moved only if every
// row it covers is there. The next sync then equals the truth and marks the killed run.
//
// MDESYNC_KILL_TRIALS (default 3) trials per kind; MDESYNC_KILL_SEED replays a run
// (the seed is printed).
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "reliability_support.hpp"

namespace mdesync::testing {
namespace {

using namespace std::chrono_literals;
using model::Dataset;

constexpr Dataset datasets[] = {Dataset::cpe, Dataset::noncpe};

struct Kind {
  const char* name;
  std::string full_via;
  bool incremental;
};

struct Tally {
  long trials = 0, killed_mid_run = 0, survived = 0, samples = 0;
  // What a kill left, per data set: the old state, the new one, or (incremental only) committed pages of the new.
  long left_old = 0, left_new = 0, left_mixed = 0;
};

// The killed process's session may outlive it for a moment (PostgreSQL notices a
// dead client at its next read); the next sync must not find the data set locked.
bool wait_for_unlocked(const TempSchema& schema) {
  const std::string sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid::bigint = "
                          "(hashtext('mdesync.sync." + schema.name() + "')::bigint + 4294967296) % 4294967296";
  for (int i = 0; i < 600; ++i) {
    if (query_value(sql) == "0") return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

std::set<std::int64_t> running_runs(const TempSchema& schema, Dataset ds) {
  std::set<std::int64_t> ids;
  for (const auto& r : runs(schema, ds))
    if (r.status == "running") ids.insert(r.id);
  return ids;
}

class KillTrials {
 public:
  explicit KillTrials(Kind kind)
      : kind_(std::move(kind)),
        api_(without_quotas({"--export-files", "4"}), 20) {
    auto options = reliability_config(schema_, kind_.full_via);
    options.page_size = kind_.incremental ? 15 : 60;
    options.extra_sync = "  download_concurrency: 2\n";
    config_ = write_config(dir_, api_, options);
  }

  void run(long trials, std::uint64_t seed) {
    std::cout << "[kill] " << kind_.name << ": seed=" << seed << " trials=" << trials
              << " (replay with MDESYNC_KILL_SEED=" << seed << " MDESYNC_KILL_TRIALS=" << trials << ")" << std::endl;
    ::testing::Test::RecordProperty(std::string("kill_seed_") + kind_.name, std::to_string(seed));
    std::mt19937_64 rng(seed);
    const auto first = run_mdesync(config_, {"sync", "--mode", "full"});
    ASSERT_EQ(first.exit_code, 0) << first.output;
    // Slow pages from now on, so a run lasts long enough for kills to land mid-way.
    api_.admin_post("/_admin/faults?fault-slow-rate=1&fault-slow-ms=60");
    // An uninterrupted run of the same kind: how long one takes bounds the kill moments.
    mutate(0);
    const auto t0 = std::chrono::steady_clock::now();
    const auto warm = run_mdesync(config_, {"sync", "--mode", mode()});
    const auto span = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    ASSERT_EQ(warm.exit_code, 0) << warm.output;
    for (const auto ds : datasets) expect_table_equals_truth(api_, schema_.name(), ds);

    for (long trial = 1; trial <= trials && !::testing::Test::HasFatalFailure(); ++trial) {
      SCOPED_TRACE(std::string(kind_.name) + " trial " + std::to_string(trial) + " of seed " + std::to_string(seed));
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<long>(0, span.count())(rng));
      one_trial(trial, delay);
    }
    std::cout << "[kill] " << kind_.name << ": trials=" << tally_.trials << " killed_mid_run=" << tally_.killed_mid_run
              << " survived=" << tally_.survived << " reader_samples=" << tally_.samples
              << " left_old=" << tally_.left_old << " left_new=" << tally_.left_new
              << " left_mixed=" << tally_.left_mixed << std::endl;
    EXPECT_EQ(tally_.survived, trials);
  }

 private:
  std::string mode() const { return kind_.incremental ? "incremental" : "full"; }

  void mutate(long trial) {
    // Incremental pulls never remove: without uninstalls and upgrades their result is the truth itself.
    const std::string changes = kind_.incremental ? "installs=20&uninstalls=0&upgrades=0&reassess=20"
                                                  : "installs=8&uninstalls=4&upgrades=6&reassess=6";
    api_.admin_post("/_admin/mutate?tenant=" + fake_tenant_id + "&" + changes + "&seed=" + std::to_string(trial + 100));
  }

  void one_trial(long trial, std::chrono::milliseconds delay) {
    ++tally_.trials;
    const int failures_before = failures();
    std::map<Dataset, std::string> old_truth, new_truth, old_watermark;
    for (const auto ds : datasets) {
      old_truth[ds] = api_.truth(dataset_name(ds));
      old_watermark[ds] = watermark(schema_, ds);
    }
    mutate(trial);
    for (const auto ds : datasets) new_truth[ds] = api_.truth(dataset_name(ds));

    const auto log = dir_.path() / ("killed-" + std::to_string(trial) + ".log");
    int status;
    {
      Process p({mdesync_binary(), "sync", "--mode", mode(), "--config", config_.string()}, log);
      // Until the kill, read the tables the way a dashboard would.
      const auto kill_at = std::chrono::steady_clock::now() + delay;
      while (std::chrono::steady_clock::now() < kill_at) {
        if (!kind_.incremental) expect_old_or_new(old_truth, new_truth);
        const auto left = kill_at - std::chrono::steady_clock::now();
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(20ms, left));
      }
      p.kill(SIGKILL);
      status = p.wait();
    }
    if (status == 128 + SIGKILL) {
      ++tally_.killed_mid_run;
    } else {
      EXPECT_EQ(status, 0) << "the run ended before the kill, and not well:\n" << read_file(log);
    }
    std::cout << "[kill] " << kind_.name << " trial " << trial << ": kill at " << delay.count() << " ms, "
              << (status == 128 + SIGKILL ? "killed" : "had finished") << std::endl;
    ASSERT_TRUE(wait_for_unlocked(schema_)) << "the killed run's lock was never released";

    std::map<Dataset, std::set<std::int64_t>> left_running;
    for (const auto ds : datasets) {
      left_running[ds] = running_runs(schema_, ds);
      if (kind_.incremental)
        expect_only_committed_pages(ds, old_truth[ds], new_truth[ds], old_watermark[ds]);
      else
        expect_whole_snapshot(ds, old_truth[ds], new_truth[ds], old_watermark[ds]);
    }

    const auto again = run_mdesync(config_, {"sync", "--mode", mode()});
    ASSERT_EQ(again.exit_code, 0) << again.output << "\nkilled run:\n" << read_file(log);
    for (const auto ds : datasets) {
      expect_table_equals_truth(api_, schema_.name(), ds);
      for (const auto& r : runs(schema_, ds)) {
        EXPECT_NE(r.status, "running") << "run " << r.id;
        if (left_running[ds].count(r.id) != 0) {
          EXPECT_EQ(r.status, "abandoned") << "run " << r.id;
        }
      }
    }
    if (failures() == failures_before) ++tally_.survived;
  }

  static int failures() {
    const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
    int n = 0;
    for (int i = 0; i < result->total_part_count(); ++i) n += result->GetTestPartResult(i).failed() ? 1 : 0;
    return n;
  }

  void expect_old_or_new(std::map<Dataset, std::string>& old_truth, std::map<Dataset, std::string>& new_truth) {
    for (const auto ds : datasets) {
      try {
        const auto o = diff(schema_, ds, old_truth[ds]);
        const bool is_old = o.equal();
        const bool is_new = is_old ? false : diff(schema_, ds, new_truth[ds]).equal();
        ++tally_.samples;
        EXPECT_TRUE(is_old || is_new) << dataset_name(ds) << ": a reader saw a half-applied snapshot ("
                                      << o.missing_count << " rows of the old truth missing, " << o.extra_count
                                      << " not in it)";
      } catch (const pqxx::sql_error& e) {
        ADD_FAILURE() << "reading the tables while syncing failed: " << e.what();
      }
    }
  }

  void expect_whole_snapshot(Dataset ds, const std::string& old_truth, const std::string& new_truth,
                             const std::string& old_watermark) {
    const bool is_old = diff(schema_, ds, old_truth).equal();
    const bool is_new = diff(schema_, ds, new_truth).equal();
    const bool moved = watermark(schema_, ds) != old_watermark;
    ++(is_old ? tally_.left_old : tally_.left_new);
    EXPECT_TRUE(is_old || is_new) << dataset_name(ds) << ": a half snapshot is visible after the kill";
    // The watermark and the rows it covers commit together, or neither does.
    if (moved) {
      EXPECT_TRUE(is_new) << dataset_name(ds) << ": the watermark moved past rows that are not there";
    }
    if (is_new && !is_old) {
      EXPECT_TRUE(moved) << dataset_name(ds) << ": the snapshot applied without its watermark";
    }
  }

  void expect_only_committed_pages(Dataset ds, const std::string& old_truth, const std::string& new_truth,
                                   const std::string& old_watermark) {
    // Pages commit one by one, so any mix of old and new rows may be there, but no other row.
    const auto mixed = diff(schema_, ds, union_of(old_truth, new_truth));
    EXPECT_EQ(mixed.extra_count, 0) << dataset_name(ds) << ": a row that is neither old nor new, e.g. "
                                    << (mixed.extra.empty() ? "" : mixed.extra[0]);
    const bool is_old = diff(schema_, ds, old_truth).equal(), is_new = diff(schema_, ds, new_truth).equal();
    ++(is_old ? tally_.left_old : is_new ? tally_.left_new : tally_.left_mixed);
    if (watermark(schema_, ds) != old_watermark) {
      const auto d = diff(schema_, ds, new_truth);
      EXPECT_EQ(d.missing_count, 0) << dataset_name(ds) << ": the watermark moved past rows that are not there, e.g. "
                                    << (d.missing.empty() ? "" : d.missing[0]);
    }
  }

  Kind kind_;
  TempSchema schema_{"kill"};
  FakeApi api_;
  TempDir dir_;
  std::filesystem::path config_;
  Tally tally_;
};

std::uint64_t trial_seed() {
  const long fixed = env_long("MDESYNC_KILL_SEED", -1);
  return fixed >= 0 ? static_cast<std::uint64_t>(fixed) : std::random_device{}();
}

long trial_count() { return env_long("MDESYNC_KILL_TRIALS", 3); }

TEST(KillNine, FullSyncsViaExportShowTheOldOrTheNewSnapshotAndConverge) {
  KillTrials({"export", "export", false}).run(trial_count(), trial_seed());
}

TEST(KillNine, FullSyncsViaJsonShowTheOldOrTheNewSnapshotAndConverge) {
  KillTrials({"json", "json", false}).run(trial_count(), trial_seed());
}

TEST(KillNine, IncrementalSyncsNeverMoveTheWatermarkPastUncommittedRowsAndConverge) {
  KillTrials({"incremental", "json", true}).run(trial_count(), trial_seed());
}

}  // namespace
}  // namespace mdesync::testing
