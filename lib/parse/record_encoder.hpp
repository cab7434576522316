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

#include <utility>

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/dataset.hpp"

namespace mdesync::parse {

// The primary key (tenant, deviceId, softwareVendor, softwareName, softwareVersion)
// is one btree entry, and a btree entry holds at most 2704 bytes. Less the
// entry's header (8 bytes) and, per column, a 4-byte length and up to 3 bytes of
// alignment, 2661 bytes of key always fit; more fit only when PostgreSQL manages
// to compress them, which it does not promise. A record whose key is longer fails
// the whole COPY batch, every sync, since the API keeps sending it: it is
// rejected here instead, with this limit in the reason. No other column is
// limited: no index holds an unbounded non-key column (see sql/0005).
inline constexpr std::size_t max_key_bytes = 2660;

enum class Verdict {
  stored,     // one line appended
  rejected,   // the record is well-formed JSON but cannot be stored; skip it
  malformed,  // the JSON itself is broken; the enclosing document cannot be trusted
};

// What the encoder did beyond storing and rejecting, since the last take_stats().
struct EncoderStats {
  std::uint64_t altered = 0;  // records stored with a value altered (see encode())
  // Undocumented field name, as sent -> records that carried it.
  std::map<std::string, std::uint64_t, std::less<>> undocumented;
};

class RecordEncoder {
 public:
  RecordEncoder(model::Dataset dataset, std::string tenant);

  // Encodes one record. On anything but Verdict::stored, reason() says why,
  // naming the field, e.g. `softwareFirstSeenTimestamp: unparseable timestamp "yesterday"`.
  //
  // Field names match case-insensitively; a missing field is null; when a field
  // repeats, the last one wins (an earlier invalid occurrence still rejects the
  // record). A record without deviceId or softwareName (missing, null or "") is
  // rejected, and so is one whose key adds up to more than max_key_bytes. Key
  // columns store null as ''.
  //
  // Nothing else is dropped:
  // - fields beyond the documented ones go to extra_fields exactly as sent;
  // - U+0000, which PostgreSQL text cannot hold, is removed at the end of a
  //   string and replaced by U+FFFD elsewhere (keys included: two keys that become
  //   equal are one row, the later one wins);
  // - a value of an integer column that is not an integer in range is stored as NULL.
  // Each altered value keeps its JSON text as sent in extra_fields under
  // "_original", by field name, and the record counts as altered (alteration()).
  [[nodiscard]] Verdict encode(simdjson::ondemand::object record, std::string& out);
  // As above; a value that is not an object is rejected.
  [[nodiscard]] Verdict encode(simdjson::ondemand::value record, std::string& out);

  // Why the last encode() did not store its record; empty after Verdict::stored.
  // Overwritten by the next encode(): copy it to keep it.
  const std::string& reason() const { return reason_; }
  // What the last encode() altered to store its record, e.g. `softwareName:
  // U+0000 removed`; empty when nothing was.
  const std::string& alteration() const { return alteration_; }

  // The counts since the last call; the caller discards them for a page or file
  // that is fetched again.
  EncoderStats take_stats() { return std::exchange(stats_, {}); }

  model::Dataset dataset() const { return dataset_; }
  const std::string& tenant() const { return tenant_; }

 private:
  struct Slot {
    std::string text;  // the column's COPY field, already escaped
    bool has_value = false;  // false: null or missing
    std::size_t bytes = 0;   // the value's length before escaping, for max_key_bytes
    // Set when the value had to be altered to be stored: its JSON text as sent, and
    // what was done. Per slot, so that a repeated field's last occurrence decides.
    bool altered = false;
    std::string original;
    std::string_view sent_name;  // the field's name as sent (valid while the document is)
    std::string_view what;
  };

  int find_column(std::string_view key) const;
  Verdict read_value(std::size_t col, simdjson::ondemand::value& value);
  Verdict read_undocumented(std::string_view key, simdjson::ondemand::value value);
  Verdict read_text(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_integer(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_timestamp(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  Verdict read_text_array(std::size_t col, simdjson::ondemand::value& value, simdjson::ondemand::json_type type);
  // Reads a JSON string value, rejecting bad escapes; U+0000 is altered (fix_nul).
  Verdict read_string(std::size_t col, simdjson::ondemand::value& value, std::string_view& s, bool& nul_fixed);
  // Records that column `col` was stored altered: `original` is its JSON text as sent.
  void altered(std::size_t col, std::string_view original, std::string_view what);
  // Collects the altered slots into original_members_ and alteration_.
  void collect_alterations();
  void emit(std::string& out);

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
  std::vector<std::size_t> key_columns_;
  std::vector<Slot> slots_;
  std::string reason_;
  std::string alteration_;
  std::string_view field_key_;   // the field being read, its name as sent (unescaped)
  std::string extra_members_;    // "name":value,... of undocumented fields (jsonb-safe)
  std::string original_members_; // "name":"JSON as sent",... of altered undocumented fields
  std::string fixed_, scratch_clean_, scratch_original_, extra_json_;
  EncoderStats stats_;
};

}  // namespace mdesync::parse
