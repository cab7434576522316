#pragma once
// A full snapshot from the export files: request the export, download every file
// (several at once, streaming: inflate -> NDJSON -> COPY while bytes arrive),
// then apply the snapshot atomically.
#include "schedule/pull.hpp"

namespace mdesync::schedule {

// Fills out.counts (and out.status/error for a guarded snapshot); throws on failure.
// The staged files survive a failure, so the next run within the URLs' validity
// downloads only the rest.
void run_export_pull(PullContext& ctx, model::Dataset ds, bool force, const store::SyncState& state, PullOutcome& out);

}  // namespace mdesync::schedule
