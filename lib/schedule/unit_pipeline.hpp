#pragma once
// fetch -> parse -> batch -> store for one unit of work (a JSON page or an export
// file), the one chain both pull paths run:
//
//   bytes from the API or storage -> parse::RecordStream -> batch::CopyBatch
//     -> store::UnitWriter (one transaction) -> the caller's commit
//
// One attempt at a unit: start() opens the writer's transaction with a fresh
// stream (again when a download restarts from its first byte); bytes() parses
// and COPYs while the unit downloads; end() returns what the unit held, with the
// writer still open for the caller's commit (a page with its watermark, a file
// with its record). On an exception the caller calls abort().
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "batch/copy_batch.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "parse/record_encoder.hpp"
#include "parse/record_stream.hpp"
#include "schedule/pull.hpp"
#include "store/unit_writer.hpp"

namespace mdesync::schedule {

class UnitPipeline {
 public:
  // Makes the unit's parser, appending stored records to `copy_lines`.
  using MakeStream = std::function<std::unique_ptr<parse::RecordStream>(std::string& copy_lines)>;

  UnitPipeline(PullContext& ctx, parse::RecordEncoder& encoder, store::UnitWriter& writer, MakeStream make_stream);

  void start();
  // Throws when the pull is stopping or stalled, or the bytes cannot be parsed.
  void bytes(std::string_view chunk);
  // The unit's summary; the encoder's statistics for it are in `stats`.
  parse::UnitSummary end(parse::EncoderStats& stats);
  void abort() noexcept { writer_.abort(); }

 private:
  PullContext& ctx_;
  parse::RecordEncoder& encoder_;
  store::UnitWriter& writer_;
  MakeStream make_stream_;
  batch::CopyBatch batch_;
  std::unique_ptr<parse::RecordStream> stream_;
};

// The one retry policy for a unit whose bytes do not parse, which is what a
// broken transfer looks like (a page that is not JSON, a gzip stream that is
// corrupt or truncated): it is downloaded again, up to unit_attempts times, each
// failure logged as `event`; then the run fails with a data error naming `unit`.
// Other failures (HTTP, quota, database) have their own retries below this and
// pass through. The attempt aborts its own unit before it throws.
inline constexpr int unit_attempts = 3;

template <class BadUnit, class Attempt>
auto retry_bad_unit(PullContext& ctx, model::Dataset ds, const std::string& unit, std::string_view event,
                    Attempt&& attempt) {
  for (int n = 1;; ++n) {
    try {
      return attempt();
    } catch (const BadUnit& e) {
      if (n >= unit_attempts)
        throw Error(ErrorKind::data,
                    unit + ": " + e.what() + " (after " + std::to_string(n) + " downloads)");
      log::warn(event, {{"tenant", ctx.tenant.name}, {"dataset", model::spec(ds).name}, {"unit", unit},
                        {"attempt", n}, {"error", e.what()}});
    }
  }
}

}  // namespace mdesync::schedule
