#include "schedule/record_notes.hpp"

#include "core/log.hpp"

namespace mdesync::schedule {

RecordNotes::RecordNotes(std::string tenant, model::Dataset dataset, PullOutcome& out)
    : tenant_(std::move(tenant)), dataset_(model::spec(dataset).name), out_(out) {}

void RecordNotes::unit_committed(std::string_view where, std::string_view unit, const parse::UnitSummary& summary,
                                 parse::EncoderStats stats) {
  std::lock_guard lock(mutex_);
  out_.counts.received += summary.rows + summary.rejected;
  out_.counts.rejected += summary.rejected;
  out_.counts.altered += stats.altered;
  for (const auto& r : summary.rejections) {
    const std::string at = std::string(where) + ", " + std::string(unit) + " " + std::to_string(r.index);
    if (out_.rejections.size() < rejections_kept_per_run) out_.rejections.push_back({at, r.reason});
    if (rejections_logged_ >= rejections_logged_per_run) continue;
    ++rejections_logged_;
    log::warn("record rejected",
              {{"tenant", tenant_}, {"dataset", dataset_}, {"where", at}, {"error", r.reason}});
  }
  for (const auto& a : summary.alterations) {
    if (alterations_logged_ >= alterations_logged_per_run) break;
    ++alterations_logged_;
    log::info("record altered", {{"tenant", tenant_}, {"dataset", dataset_},
                                 {"where", std::string(where) + ", " + std::string(unit) + " " + std::to_string(a.index)},
                                 {"altered", a.reason}});
  }
  for (auto& [name, records] : stats.undocumented) {
    out_.undocumented_fields[name] += records;
    if (fields_logged_.insert(name).second)
      log::info("undocumented field", {{"tenant", tenant_}, {"dataset", dataset_}, {"field", name},
                                       {"note", "kept in extra_fields"}});
  }
}

void RecordNotes::finish() {
  std::lock_guard lock(mutex_);
  if (out_.counts.rejected > rejections_logged_)
    log::warn("records rejected", {{"tenant", tenant_}, {"dataset", dataset_}, {"rejected", out_.counts.rejected},
                                   {"not_logged", out_.counts.rejected - rejections_logged_}});
  if (out_.counts.altered > 0)
    log::info("records altered", {{"tenant", tenant_}, {"dataset", dataset_}, {"altered", out_.counts.altered},
                                  {"note", "values as sent are in extra_fields._original"}});
}

}  // namespace mdesync::schedule
