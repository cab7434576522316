#pragma once
// Compares a table with the simulator's ground truth in SQL: the truth JSON goes
// in as one parameter and PostgreSQL's own JSON functions read it, so the check
// shares no code with mdesync's parser or COPY encoding.
#include <string>
#include <vector>

#include "model/dataset.hpp"

namespace mdesync::testing {

struct TruthDiff {
  long long truth_rows = 0;
  long long table_rows = 0;             // rows of the tenant with removed_at IS NULL
  std::vector<std::string> missing;     // in the truth, absent or different in the table (first few)
  std::vector<std::string> extra;       // in the table, absent or different in the truth (first few)
  long long missing_count = 0;
  long long extra_count = 0;
  bool equal() const { return missing_count == 0 && extra_count == 0; }
};

TruthDiff compare_with_truth(const std::string& schema, const std::string& tenant, model::Dataset ds,
                             const std::string& truth_json);

}  // namespace mdesync::testing
