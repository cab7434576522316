#pragma once
// Serving crafted input from mde-fakeapi (POST /_admin/inject) and reading back,
// byte for byte, what mdesync stored of it.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fixtures/bad_input/corpus.hpp"
#include "support/fake_api.hpp"

namespace mdesync::testing::bad_input {

// Quotas off in the simulator and out of reach in mdesync: these tests sync many
// times and must not wait for a quota window.
std::vector<std::string> unpaced(std::vector<std::string> more_flags = {});
ConfigOptions unpaced_config(const std::string& schema, const std::string& full_via);


// A page of injected records: each case between two good records, so every bad one
// has neighbours to disturb. Returns the body lines; `neighbours` gets the good ones.
struct InjectedPage {
  std::vector<const Case*> cases;      // position i of the page holds cases[i] at record 2*i+1
  std::vector<Case> neighbours;        // at records 0, 2, 4, ...
};
std::vector<InjectedPage> interleave(model::Dataset ds, const std::vector<const Case*>& cases,
                                     std::size_t cases_per_page, const std::string& tag);
std::string injection_body(const std::vector<InjectedPage>& pages);

// Every column of the row whose device_id is `device_id`, as corpus.hpp's Value
// describes it; nullopt when there is no such row.
using Row = std::map<std::string, Value>;
// A case's expectation as a stored row reads back: extra_fields (NULL unless the
// case names it) in PostgreSQL's jsonb text form.
Row with_jsonb(Row expect);
std::optional<Row> stored_row(const std::string& schema, model::Dataset ds, const std::string& device_id);

// Every current row of the tenant "contoso" whose device_id starts with "bi-", by device_id.
std::map<std::string, Row> stored_rows(const std::string& schema, model::Dataset ds);

// The latest run of a data set.
struct Run {
  std::string status;
  long long received = 0, upserted = 0, rejected = 0;
  std::string error;
};
Run last_run(const std::string& schema, model::Dataset ds);

// The data set's watermark as text ("" when there is none).
std::string watermark(const std::string& schema, model::Dataset ds);

// sum(xmin) of the data set's table: changes when any row is rewritten.
std::string row_versions(const std::string& schema, model::Dataset ds);

// The log's way of writing a value: `"` and `\` escaped.
std::string as_logged(const std::string& text);

}  // namespace mdesync::testing::bad_input
