#pragma once
// Just enough JSON for OAuth token and error responses: one flat object whose
// string and number members we read by name. Nested arrays and objects are
// checked for well-formedness and kept as raw text (error_codes: [7000215]).
// Keeps auth free of simdjson; the API layer parses the real payloads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::auth {

class FlatJson {
 public:
  // nullopt unless `text` is exactly one JSON object (surrounding whitespace allowed).
  static std::optional<FlatJson> parse(std::string_view text);

  bool has(std::string_view key) const;
  // The unescaped value of a string member; nullopt for other types or no member.
  std::optional<std::string> string(std::string_view key) const;
  // An integer member, written either as a JSON number without fraction or
  // exponent (3599) or as a string of digits ("3599").
  std::optional<std::int64_t> integer(std::string_view key) const;
  // Integers of an array member ([7000215, 50012]); non-integer elements are skipped.
  std::vector<std::int64_t> integers(std::string_view key) const;

 private:
  struct Member {
    std::string key;
    bool is_string = false;
    std::string value;  // unescaped for strings, raw JSON text otherwise
  };
  const Member* find(std::string_view key) const;
  std::vector<Member> members_;
};

}  // namespace mdesync::auth
