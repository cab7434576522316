#include "schedule/pull.hpp"

#include <string>
#include <unordered_set>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/timestamp.hpp"
#include "parse/page.hpp"
#include "parse/page_stream.hpp"
#include "parse/record_encoder.hpp"
#include "schedule/export_pull.hpp"
#include "schedule/record_notes.hpp"
#include "schedule/unit_pipeline.hpp"
#include "store/failure.hpp"

namespace mdesync::schedule {
namespace {

using store::RunMode;
using store::RunStatus;

struct JsonPull {
  PullContext& ctx;
  model::Dataset ds;
  RunMode mode;
  PullOutcome& out;

  std::string_view dataset_name() const { return model::spec(ds).name; }

  // The API's own clock: the Date header of the first answer, so our clock's skew
  // cannot move the watermark past data the API had not yet counted.
  SystemTime api_time(const http::Response& r) const {
    if (auto d = r.header("Date"))
      if (auto t = parse_http_date(*d)) return *t;
    return ctx.clock.now_utc();
  }

  // fetch -> parse -> batch -> store, for one page (UnitPipeline): records are
  // parsed and COPYed while the rest of the page downloads, so memory stays flat
  // whatever the page size. Returns with the page's transaction open, for run()
  // to commit.
  parse::UnitSummary fetch_page(const std::string& url, store::PageWriter& writer, parse::RecordEncoder& encoder,
                                std::optional<SystemTime>& start, int page_number, parse::EncoderStats& stats) {
    const std::string unit = "page " + std::to_string(page_number) + " of " + log::redact_url(url);
    return retry_bad_unit<parse::PageError>(ctx, ds, unit, "bad page", [&] {
      UnitPipeline pipeline(ctx, encoder, writer, [&encoder](std::string& lines) {
        return std::make_unique<parse::PageStream>(encoder, lines);
      });
      bool started = false;
      ctx.step("downloading page " + std::to_string(page_number));
      const api::BodySink sink{[&](const http::Response& head) {
                                 if (!start) start = api_time(head);
                                 pipeline.start();
                                 started = true;
                               },
                               [&](std::string_view bytes) { pipeline.bytes(bytes); }};
      try {
        ctx.api.get_streamed(url, ratelimit::Family::json, sink);
        if (!started) throw parse::PageError("the page has no body");
        return pipeline.end(stats);
      } catch (...) {
        pipeline.abort();
        throw;
      }
    });
  }

  void run(const store::SyncState& state) {
    const auto& cfg = ctx.config.sync;
    std::optional<SystemTime> since;
    if (mode == RunMode::incremental) since = state.watermark;
    std::string url = ctx.api.first_page_url(ds, cfg.page_size, since);
    parse::RecordEncoder encoder(ds, ctx.tenant.name);
    std::optional<SystemTime> start;
    std::unordered_set<std::string> read_urls{url};
    RecordNotes notes(ctx.tenant.name, ds, out);
    if (mode == RunMode::full) ctx.store.begin_snapshot(ctx.tenant.name, ds);
    store::PageWriter writer(ctx.store, ctx.tenant.name, ds, mode);
    for (int page = 1;; ++page) {
      ctx.throw_if_stopping();
      parse::EncoderStats stats;
      const auto result = fetch_page(url, writer, encoder, start, page, stats);
      const bool last = !result.next_link.has_value();
      std::optional<store::WatermarkUpdate> advance;
      if (last && mode == RunMode::incremental)
        advance = store::WatermarkUpdate{*start - cfg.watermark_overlap, RunMode::incremental};
      out.counts.upserted += writer.commit(advance, out.run_id);
      notes.unit_committed("page " + std::to_string(page), "record", result, stats);
      log::debug("page", {{"tenant", ctx.tenant.name}, {"dataset", dataset_name()}, {"page", page},
                          {"rows", result.rows}});
      if (last) break;
      // A link back to a page already read would page forever (at the tenant's
      // quota): the API's paging is broken, so the run fails instead.
      if (!read_urls.insert(*result.next_link).second)
        throw Error(ErrorKind::data, "page " + std::to_string(page) + ": @odata.nextLink points back to a page " +
                                         "already read (" + log::redact_url(*result.next_link) + ")");
      url = *result.next_link;
    }
    notes.finish();
    if (mode == RunMode::full) {
      store::SnapshotOptions opts;
      opts.removed_at = *start;
      opts.max_removal_ratio = cfg.max_removal_ratio;
      opts.advance = {*start - cfg.watermark_overlap, RunMode::full};
      opts.force = force;
      apply_snapshot(ctx, ds, opts, out);
    }
  }

  bool force = false;
};

}  // namespace

void PullContext::throw_if_stopping() const {
  if (stopping()) throw Error(ErrorKind::transient, "stopped: mdesync is shutting down");
  if (watch != nullptr && watch->stalled()) throw Error(ErrorKind::transient, "stalled: " + watch->stall_message());
}

void record_outcome(store::SyncStore& store, const PullOutcome& out) {
  store.finish_run(out.run_id, out.status, out.counts, out.error.empty() ? out.note : out.error,
                   {out.snapshot_generated_at, out.removals_held_back, out.undocumented_fields, out.rejections});
}

void apply_snapshot(PullContext& ctx, model::Dataset ds, const store::SnapshotOptions& options, PullOutcome& out) {
  const auto r = ctx.store.apply_snapshot(ctx.tenant.name, ds, options, out.run_id);
  log::info("snapshot applied", {{"tenant", ctx.tenant.name}, {"dataset", model::spec(ds).name},
                                 {"upserted", r.upserted}, {"removed", r.removed}, {"unchanged", r.unchanged},
                                 {"first_load", r.first_load ? "true" : "false"},
                                 {"indexes_rebuilt", r.indexes_rebuilt ? "true" : "false"}});
  out.counts.upserted += r.upserted;
  out.counts.removed += r.removed;
  if (r.guarded) {
    out.status = RunStatus::guarded;
    out.removals_held_back = r.removal_candidates;
    out.error = "mass-removal guard: the snapshot would remove " + std::to_string(r.removal_candidates) + " of " +
                std::to_string(r.active_before) + " rows (more than sync.max_removal_ratio " +
                std::to_string(ctx.config.sync.max_removal_ratio) +
                "); rows were upserted, nothing removed; run `mdesync sync --force` to apply it";
  }
}

PullOutcome run_pull(PullContext& ctx, const PullRequest& request) {
  PullOutcome out;
  const auto started = ctx.clock.now_steady();
  const std::string dataset(model::spec(request.dataset).name);
  // Every network operation of the pull answers to one stall watch: no progress
  // for sync.stall_timeout and its connections are broken loose (StallWatch).
  // The caller may bring its own (the daemon reads it for health and the watchdog).
  std::unique_ptr<StallWatch> own_watch;
  if (ctx.watch == nullptr) own_watch = std::make_unique<StallWatch>(ctx.config.sync.stall_timeout);
  StallWatch& watch = ctx.watch != nullptr ? *ctx.watch : *own_watch;
  struct Watched {
    PullContext& ctx;
    StallWatch::Interrupter api;
    Watched(PullContext& c, StallWatch& w)
        : ctx(c), api(&w, [&c, &w] { c.api.transport().interrupt("the pull made " + w.stall_message()); }) {
      ctx.watch = &w;
      ctx.store.attach(&w);
      ctx.api.set_stall_watch(&w);
    }
    ~Watched() {
      ctx.api.set_stall_watch(nullptr);
      ctx.store.attach(nullptr);
      ctx.watch = nullptr;
    }
  } watched(ctx, watch);
  ctx.step("taking the sync lock");
  if (!ctx.store.try_lock(ctx.tenant.name, request.dataset)) {
    out.skipped = true;
    out.error = "another mdesync instance is syncing this tenant and data set";
    log::info("pull skipped", {{"tenant", ctx.tenant.name}, {"dataset", dataset}, {"reason", out.error}});
    return out;
  }
  struct Unlock {
    PullContext& ctx;
    model::Dataset ds;
    ~Unlock() {
      // A connection given up is gone; its session (and lock) ends with it.
      if (ctx.store.gave_up()) return;
      try {
        ctx.store.unlock(ctx.tenant.name, ds);
      } catch (const std::exception&) {
        // The session ending releases the lock anyway.
      }
    }
  } unlock{ctx, request.dataset};

  const auto state = ctx.store.state(ctx.tenant.name, request.dataset);
  ctx.store.set_known_rows_limit(static_cast<std::size_t>(ctx.config.sync.digest_rows_limit));
  // The first sync of a tenant and data set is a full one, whatever was asked.
  out.mode = !state.watermark ? RunMode::full : request.mode.value_or(RunMode::incremental);
  out.run_id = ctx.store.begin_run(ctx.tenant.name, request.dataset, out.mode);
  log::info("pull started", {{"tenant", ctx.tenant.name}, {"dataset", dataset}, {"mode", store::to_string(out.mode)},
                             {"run", out.run_id}});
  out.status = RunStatus::succeeded;
  const bool via_export = out.mode == RunMode::full && ctx.config.sync.full_via == config::FullVia::export_files;
  try {
    if (via_export) {
      run_export_pull(ctx, request.dataset, request.force, state, out);
    } else {
      JsonPull pull{ctx, request.dataset, out.mode, out};
      pull.force = request.force;
      pull.run(state);
    }
  } catch (const std::exception& e) {
    out.status = RunStatus::failed;
    out.error = store::describe_failure(e);
    out.recovery = store::recovery_of(e);
    // What broke the pull loose says more than what the blocked call saw.
    if (watch.stalled()) {
      out.stalled_step = watch.stalled_step();
      out.error = "stalled: " + watch.stall_message() + "; the pull was given up, nothing of it applied";
      out.recovery = Recovery::reconnect;
    } else if (const auto why = ctx.store.gave_up()) {
      out.stalled_step = watch.stalled_step();
      out.error = *why + "; the pull was given up, nothing of it applied";
      out.recovery = Recovery::reconnect;
    }
    // A JSON snapshot cannot resume (its pages are not addressable later); staged
    // export files can, so they stay for the next run.
    if (out.mode == RunMode::full && !via_export && !ctx.store.gave_up()) {
      try {
        ctx.store.discard_snapshot(ctx.tenant.name, request.dataset);
      } catch (const std::exception&) {
      }
    }
  }
  out.duration = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.clock.now_steady() - started);
  if (ctx.store.gave_up()) {
    // Never block on recording the failure: the connection is gone; the caller
    // writes it once the database answers again (record_outcome).
    out.unrecorded = true;
  } else {
    try {
      record_outcome(ctx.store, out);
    } catch (const std::exception& e) {
      if (out.error.empty()) out.error = std::string("recording the run failed: ") + e.what();
      out.status = RunStatus::failed;
      out.unrecorded = true;
    }
  }
  const auto level = out.status == RunStatus::failed ? log::Level::error : log::Level::info;
  log::write(level, "pull finished",
             {{"tenant", ctx.tenant.name}, {"dataset", dataset}, {"mode", store::to_string(out.mode)},
              {"status", store::to_string(out.status)}, {"rows", out.counts.received},
              {"upserted", out.counts.upserted}, {"removed", out.counts.removed},
              {"rejected", out.counts.rejected}, {"altered", out.counts.altered}, {"duration_ms", out.duration.count()}, {"error", out.error}});
  return out;
}

}  // namespace mdesync::schedule
