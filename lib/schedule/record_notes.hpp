#pragma once
// What a pull learns about its records beyond the rows it stores: rejections,
// values altered to fit, and fields the API sent beyond the documented ones.
// One policy for both pull paths: each is logged (rejections and alterations up
// to a limit per run, then a count; an undocumented field name once per run),
// counted in the outcome, and the first rejections are kept for sync_runs.
// Thread-safe: export files are staged by several workers at once.
#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "parse/record_encoder.hpp"
#include "parse/record_stream.hpp"
#include "parse/rejection.hpp"
#include "schedule/pull.hpp"

namespace mdesync::schedule {

// Logged one by one per run; past these, only counted (and summed up at the end).
inline constexpr std::size_t rejections_logged_per_run = 100;
inline constexpr std::size_t alterations_logged_per_run = 20;
// Kept in sync_runs.rejections.
inline constexpr std::size_t rejections_kept_per_run = 20;

class RecordNotes {
 public:
  RecordNotes(std::string tenant, model::Dataset dataset, PullOutcome& out);

  // A page or file committed: its counts, details and the encoder's statistics
  // since its last take_stats() join the run. `where` names the page or file
  // ("page 3", "file .../part-00001.json.gz"), `unit` what an index counts
  // ("record" in a page, "line" in a file).
  void unit_committed(std::string_view where, std::string_view unit, const parse::UnitSummary& summary,
                      parse::EncoderStats stats);

  // Logs what was counted but not logged one by one. Call once, at the end.
  void finish();

 private:
  std::string tenant_;
  std::string dataset_;
  PullOutcome& out_;
  std::mutex mutex_;
  std::size_t rejections_logged_ = 0;
  std::size_t alterations_logged_ = 0;
  std::set<std::string, std::less<>> fields_logged_;
};

}  // namespace mdesync::schedule
