#pragma once
// One API record (a JSON object) -> one COPY text line for its data set's table:
// tenant, then every column of model::spec(dataset).columns in order, tab
// separated, newline terminated.
//
// Invariants:
// - encode() appends exactly one whole line or nothing: a rejected record leaves
//   `out` byte-for-byte unchanged.
// - In steady state encode() does not allocate: values are copied into per-column
//   scratch strings owned by the encoder (cleared, never freed) because On-Demand
//   hands out fields in document order and columns are written in table order.
#include <simdjson.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/dataset.hpp"

namespace mdesync::parse {

// PostgreSQL's btree entries hold at most 2704 bytes (a third of a page). A record
// whose indexed values exceed that cannot be stored, and one such record fails the
// whole COPY batch, every sync, since the API keeps sending it: it is rejected
// here instead. The limit leaves room for the entry's own overhead.
inline constexpr std::size_t max_indexed_bytes = 2000;

enum class Verdict {
  stored,     // one line appended
  rejected,   // the record is well-formed JSON but cannot be stored; skip it
  malformed,  // the JSON itself is broken; the enclosing document cannot be trusted
};

class RecordEncoder {
 public:
  RecordEncoder(model::Dataset dataset, std::string tenant);

  // Encodes one record. On anything but Verdict::stored, reason() says why,
  // naming the field, e.g. `softwareFirstSeenTimestamp: unparseable timestamp "yesterday"`.
  //
  // Field names match case-insensitively; unknown fields are ignored; a missing
  // field is null; when a field repeats, the last one wins (an earlier invalid
  // occurrence still rejects the record). A record without deviceId or
  // softwareName (missing, null or "") is rejected. Key columns store null as ''.
  // Any string holding U+0000 rejects the record: PostgreSQL text cannot hold it.
  // So do values that PostgreSQL indexes together (tenant and the key; for CPE
  // also tenant, deviceId, deviceName, osPlatform and rbacGroupName) when they
  // add up to more than max_indexed_bytes.
  [[nodiscard]] Verdict encode(simdjson::ondemand::object record, std::string& out);
  // As above; a value that is not an object is rejected.
  [[nodiscard]] Verdict encode(simdjson::ondemand::value record, std::string& out);

  // Why the last encode() did not store its record; empty after Verdict::stored.
  // Overwritten by the next encode(): copy it to keep it.
  const std::string& reason() const { return reason_; }

  model::Dataset dataset() const { return dataset_; }
  const std::string& tenant() const { return tenant_; }

 private:
  struct Slot {
    std::string text;  // the column's COPY field, already escaped
    bool has_value = false;  // false: null or missing
    std::size_t bytes = 0;   // the value's length before escaping, for max_indexed_bytes
  };

  int find_column(std::string_view key) const;
  Verdict read_value(std::size_t col, simdjson::ondemand::value& value);
  Verdict read_text(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_integer(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_timestamp(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_text_array(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  // Reads a JSON string value, rejecting bad escapes and U+0000.
  Verdict read_string(std::size_t col, simdjson::ondemand::value& value, std::string_view& s);
  void emit(std::string& out) const;

  Verdict reject(std::size_t col, std::string_view problem);
  Verdict reject_quoted(std::size_t col, std::string_view problem, std::string_view value);
  // `<field>: <problem><token>`, the raw JSON token as it appeared in the input.
  Verdict reject_token(std::size_t col, std::string_view problem, std::string_view token);
  // `<field>: <value><suffix>`, the value quoted when it came as a JSON string.
  Verdict reject_value(std::size_t col, std::string_view value, bool quoted, std::string_view suffix);
  Verdict malformed(std::size_t col, simdjson::error_code error);

  model::Dataset dataset_;
  std::string tenant_;
  std::string tenant_field_;  // tenant, COPY-escaped once
  std::span<const model::Column> columns_;
  std::vector<std::string> lower_names_;  // json_name in lower case, per column
  std::vector<std::size_t> required_;     // columns that must be present and non-empty
  std::vector<std::vector<std::size_t>> index_groups_;  // columns one index entry holds together
  std::vector<Slot> slots_;
  std::string reason_;
};

}  // namespace mdesync::parse
