#include "schedule/export_pull.hpp"

#include <atomic>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "api/client_options.hpp"
#include "api/file_download.hpp"
#include "codec/gzip.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "http/client.hpp"
#include "parse/gzip_ndjson_stream.hpp"
#include "parse/page.hpp"
#include "parse/record_encoder.hpp"
#include "schedule/record_notes.hpp"
#include "schedule/unit_pipeline.hpp"
#include "store/snapshot_file_writer.hpp"

namespace mdesync::schedule {
namespace {

// How many hours the signed URLs stay valid (the API allows at most 6): long
// enough for a slow download, short enough that a leaked URL soon expires.
constexpr int sas_valid_hours = 6;
// A snapshot regenerated while it downloads is started over on the new one in
// the same run, at most this many times; past that the run fails.
constexpr int max_snapshot_restarts = 3;

std::string without_query(const std::string& url) {
  const auto q = url.find('?');
  return q == std::string::npos ? url : url.substr(0, q);
}

// The file's path on the storage host: what logs and rejection reasons name.
// Not its base name: the service splits exports by RBAC group, and the same
// part-NNNNN-<uuid>.c000.json.gz appears under several groups.
std::string file_path(const std::string& key) {
  const auto scheme = key.find("://");
  const auto slash = key.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? key : key.substr(slash);
}

// Thrown out of the downloads when a new export answer has another generatedTime.
struct SnapshotRegenerated {
  parse::ExportResponse answer;
};

class ExportPull {
 public:
  ExportPull(PullContext& ctx, model::Dataset ds, PullOutcome& out)
      : ctx_(ctx), ds_(ds), out_(out), notes_(ctx.tenant.name, ds, out) {}

  void run(bool force, const store::SyncState& state) {
    auto answer = request_export();
    for (int restarts = 0;; ++restarts) {
      try {
        if (!stage_snapshot(answer, force, state)) return;  // skipped
        break;
      } catch (SnapshotRegenerated& regenerated) {
        // The files staged so far belong to the old snapshot: resume_snapshot()
        // discards them when it meets the new generatedTime.
        if (restarts >= max_snapshot_restarts)
          throw Error(ErrorKind::transient, "the export snapshot was regenerated " + std::to_string(restarts + 1) +
                                                " times while downloading (last generatedTime " +
                                                regenerated.answer.generated_time + "); the next run tries again");
        log::info("snapshot regenerated", {{"tenant", ctx_.tenant.name}, {"dataset", name()},
                                           {"old_generated", format_iso8601_utc(generated_)},
                                           {"generated", regenerated.answer.generated_time},
                                           {"restart", restarts + 1}, {"note", "starting over on the new snapshot"}});
        answer = std::move(regenerated.answer);
      }
    }
    ctx_.throw_if_stopping();
    notes_.finish();

    store::SnapshotOptions opts;
    opts.removed_at = generated_;
    opts.max_removal_ratio = ctx_.config.sync.max_removal_ratio;
    opts.force = force;
    opts.advance = {generated_ - ctx_.config.sync.watermark_overlap, store::RunMode::full};
    opts.snapshot_generated_at = generated_;
    apply_snapshot(ctx_, ds_, opts, out_);
  }

 private:
  // Downloads and stages every file of the snapshot `answer` names; false when
  // the snapshot is not to be applied (already applied, or older than that).
  bool stage_snapshot(const parse::ExportResponse& answer, bool force, const store::SyncState& state) {
    const auto generated = parse_iso8601(answer.generated_time);
    if (!generated)
      throw Error(ErrorKind::data, "export answer has an unreadable generatedTime \"" + answer.generated_time + "\"");
    generated_ = *generated;
    out_.snapshot_generated_at = generated_;
    if (!force && state.snapshot_generated_at && generated_ <= *state.snapshot_generated_at) {
      // The same snapshot again costs nothing; an older one (a stale replica, a
      // clock step) would mark as removed everything installed since.
      const bool same = generated_ == *state.snapshot_generated_at;
      out_.note = "snapshot generated at " + format_iso8601_utc(generated_) +
                  (same ? " is already applied"
                        : " is older than the one applied (" + format_iso8601_utc(*state.snapshot_generated_at) +
                              "); not applied, `mdesync sync --force` applies it");
      log::info(same ? "snapshot already applied" : "snapshot older than applied",
                {{"tenant", ctx_.tenant.name}, {"dataset", name()}, {"generated", format_iso8601_utc(generated_)},
                 {"applied", format_iso8601_utc(*state.snapshot_generated_at)}});
      return false;
    }
    const auto staged = ctx_.store.resume_snapshot(ctx_.tenant.name, ds_, generated_);
    urls_.clear();
    pending_.clear();
    next_ = 0;
    failed_ = false;
    failure_ = nullptr;
    ++url_generation_;
    for (const auto& url : answer.files) {
      const auto key = without_query(url);
      urls_[key] = url;
      if (staged.count(key) == 0) pending_.push_back(key);
    }
    log::info("snapshot download", {{"tenant", ctx_.tenant.name}, {"dataset", name()},
                                    {"generated", format_iso8601_utc(generated_)}, {"files", answer.files.size()},
                                    {"already_staged", staged.size()}});
    download_all();
    return true;
  }

  std::string_view name() const { return model::spec(ds_).name; }

  parse::ExportResponse request_export() {
    ctx_.step("requesting the export");
    const auto r = ctx_.api.get(ctx_.api.export_url(ds_, sas_valid_hours), ratelimit::Family::export_files);
    return parse::parse_export_response(r.body);
  }

  // After a 403 from storage: one new export request for every worker that saw it.
  void refresh_urls(int seen_generation) {
    std::lock_guard lock(mutex_);
    if (url_generation_ != seen_generation) return;  // another worker already did
    auto answer = request_export();
    const auto generated = parse_iso8601(answer.generated_time);
    if (generated != generated_) throw SnapshotRegenerated{std::move(answer)};
    for (const auto& url : answer.files) urls_[without_query(url)] = url;
    ++url_generation_;
  }

  std::pair<std::string, int> current_url(const std::string& key) {
    std::lock_guard lock(mutex_);
    const auto it = urls_.find(key);
    if (it == urls_.end())
      throw Error(ErrorKind::data, "a new export answer no longer lists " + key + "; the next run starts over");
    return {it->second, url_generation_};
  }

  void download_all() {
    const int workers = std::max(1, std::min<int>(ctx_.config.sync.download_concurrency, pending_.size()));
    std::vector<std::thread> threads;
    for (int i = 0; i < workers && !pending_.empty(); ++i) threads.emplace_back([this] { worker(); });
    for (auto& t : threads) t.join();
    if (failure_) std::rethrow_exception(failure_);
  }

  void worker() {
    try {
      http::Client http(api::client_options(ctx_.config.http));
      store::SnapshotFileWriter writer(ctx_.config.database.url, ctx_.config.database.schema, ctx_.tenant.name, ds_,
                                       ctx_.store.snapshot_stage(ctx_.tenant.name, ds_),
                                       ctx_.store.snapshot_known_rows(ctx_.tenant.name, ds_));
      parse::RecordEncoder encoder(ds_, ctx_.tenant.name);
      // This worker's connections answer to the pull's stall watch too.
      writer.attach(ctx_.watch);
      StallWatch::Interrupter interrupt_http(
          ctx_.watch, [&http, watch = ctx_.watch] { http.interrupt("the pull made " + watch->stall_message()); });
      struct Detach {
        store::SnapshotFileWriter& writer;
        ~Detach() { writer.attach(nullptr); }
      } detach{writer};
      for (;;) {
        const std::size_t index = next_.fetch_add(1);
        if (index >= pending_.size() || failed_.load()) return;
        ctx_.throw_if_stopping();
        stage_file(pending_[index], http, writer, encoder);
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
      failed_ = true;
    }
  }

  void stage_file(const std::string& key, http::Client& http, store::SnapshotFileWriter& writer,
                  parse::RecordEncoder& encoder) {
    const std::string file = file_path(key);
    ctx_.step("downloading export file " + file);
    // fetch -> parse -> batch -> store, for one file (UnitPipeline): inflated,
    // parsed and COPYed while it downloads; the rows commit together with the
    // file's record.
    retry_bad_unit<codec::GzipError>(ctx_, ds_, "export file " + file, "file retry", [&] {
      UnitPipeline pipeline(ctx_, encoder, writer, [&](std::string& lines) {
        return std::make_unique<parse::GzipNdjsonStream>(encoder, file, lines);
      });
      int seen_generation = 0;
      api::DownloadTarget target{[&] {
                                   auto [url, generation] = current_url(key);
                                   seen_generation = generation;
                                   return url;
                                 },
                                 [&] { refresh_urls(seen_generation); },
                                 [&] { ctx_.throw_if_stopping(); }};
      // A download that starts over from its first byte starts the unit over.
      api::DownloadSink sink{[&](std::string_view bytes) { pipeline.bytes(bytes); }, [&] { pipeline.start(); }};
      try {
        pipeline.start();
        const auto stats = api::download_file(http, target, sink, ctx_.clock);
        parse::EncoderStats encoder_stats;
        const auto summary = pipeline.end(encoder_stats);
        writer.commit(key, generated_, summary.rows, summary.rejected);
        notes_.unit_committed("file " + file, "line", summary, encoder_stats);
        log::info("file staged", {{"tenant", ctx_.tenant.name}, {"dataset", name()}, {"file", file},
                                  {"rows", summary.rows}, {"rejected", summary.rejected}, {"bytes", stats.bytes},
                                  {"resumes", stats.resumes}});
      } catch (...) {
        pipeline.abort();
        throw;
      }
    });
  }

  PullContext& ctx_;
  model::Dataset ds_;
  PullOutcome& out_;
  RecordNotes notes_;
  SystemTime generated_{};
  std::map<std::string, std::string> urls_;  // file key (URL without query) -> current SAS URL
  int url_generation_ = 0;
  std::vector<std::string> pending_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr failure_;
  std::mutex mutex_;
};

}  // namespace

void run_export_pull(PullContext& ctx, model::Dataset ds, bool force, const store::SyncState& state, PullOutcome& out) {
  ExportPull(ctx, ds, out).run(force, state);
}

}  // namespace mdesync::schedule
