#include "metrics/names.hpp"

namespace mdesync::metrics {

void describe_all(Registry& r) {
  using namespace names;
  r.describe(rows_received, "counter", "Rows parsed from API pages and export files.");
  r.describe(rows_upserted, "counter", "Rows inserted or changed in PostgreSQL (unchanged rows are not rewritten).");
  r.describe(rows_removed, "counter", "Rows marked removed_at because a full snapshot no longer listed them.");
  r.describe(rows_rejected, "counter", "Records rejected (missing key field, key too long, bad timestamp).");
  r.describe(rows_altered, "counter", "Records stored with a value altered to fit (U+0000, a non-integer); "
                                      "the value as sent is in extra_fields._original.");
  r.describe(api_requests, "counter", "HTTP requests to the Defender API, by endpoint and status code.");
  r.describe(api_throttled, "counter", "Requests the Defender API answered with 429 Too Many Requests.");
  r.describe(quota_remaining, "gauge", "Calls left in the documented quota window before mdesync waits.");
  r.describe(run_duration_seconds, "gauge", "Duration of the last run, in seconds.");
  r.describe(runs, "counter", "Finished runs, by outcome.");
  r.describe(last_success_timestamp_seconds, "gauge", "Unix time at which the last successful run finished.");
  r.describe(up, "gauge", "1 while mdesync runs and syncing works; 0 while a pull is stalled or the database "
                         "is unreachable.");
  r.describe(stalled, "gauge", "1 while the job's pull is stalled or was last given up as stalled.");
  r.set(up, {}, 1);
}

}  // namespace mdesync::metrics
