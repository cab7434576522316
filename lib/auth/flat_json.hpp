#pragma once
// The members of one JSON object that OAuth token and error responses (and the
// JWTs we sign) are made of, read with simdjson: strings and integers by name,
// integer arrays (error_codes: [7000215]); anything nested is validated and
// skipped. Token responses come off the network, so nothing here parses JSON by
// hand; tests/fuzz/token_target.cpp holds it to simdjson's reading.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mdesync::auth {

class FlatJson {
 public:
  // Deeper nesting is refused: no token response needs more than two levels.
  static constexpr std::size_t max_depth = 32;

  // nullopt unless `text` is exactly one JSON object (surrounding whitespace
  // allowed) that simdjson accepts whole: valid UTF-8, every value well formed
  // and representable (a number beyond 64-bit integers and doubles is refused).
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
  // Consumed as read (simdjson's own values are never kept); when a key repeats,
  // the first member counts.
  struct Member {
    std::string key;
    std::optional<std::string> string;
    std::optional<std::int64_t> integer;  // a JSON integer that fits in int64
    std::vector<std::int64_t> integers;   // the integer elements of an array
  };
  const Member* find(std::string_view key) const;
  std::vector<Member> members_;
};

}  // namespace mdesync::auth
