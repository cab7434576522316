#pragma once
// The two data sets and their tables. Column order here is the COPY row order
// everywhere: tenant first, then the columns as listed.
#include <optional>
#include <span>
#include <string_view>

namespace mdesync::model {

enum class Dataset { cpe, noncpe };

enum class ColumnType { text, integer, timestamptz, text_array };

struct Column {
  std::string_view json_name;  // as the API spells it (matched case-insensitively)
  std::string_view sql_name;   // snake_case column
  ColumnType type;
  bool key;  // part of the primary key: a missing or null value is stored as ''
};

struct DatasetSpec {
  Dataset dataset;
  std::string_view name;             // "cpe" | "noncpe", as in config and sync_state
  std::string_view table;            // target table in the mdesync schema
  std::string_view json_path;        // paged JSON endpoint
  std::string_view export_path;      // file export endpoint
  std::span<const Column> columns;   // data columns after tenant
};

const DatasetSpec& spec(Dataset d);
std::optional<Dataset> parse_dataset(std::string_view name);
inline constexpr Dataset all_datasets[] = {Dataset::cpe, Dataset::noncpe};

// After the columns above, both tables have extra_fields (jsonb, NULL when
// empty): every field a record carried beyond the documented ones, exactly as
// sent, and under "_original" the value as sent of each field that had to be
// altered to be stored. COPY order: tenant, columns, extra_fields.
inline constexpr std::string_view extra_fields_column = "extra_fields";

// Columns a record must carry to be stored at all.
inline constexpr std::string_view required_json_fields[] = {"deviceId", "softwareName"};

}  // namespace mdesync::model
