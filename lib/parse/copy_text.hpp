#pragma once
// PostgreSQL COPY text format (default delimiter tab, null marker \N).
//
// Invariant: a field written here never contains a raw tab, newline, carriage
// return or an unescaped backslash, so one COPY line is always one record and a
// value can never end the data early (a lone "\." line) or shift columns.
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mdesync::parse {

// Appends `utf8` as one COPY text field. Every byte is accepted; backslash,
// newline, CR, tab, \b, \f and \v are written as backslash escapes and all other
// bytes pass through unchanged. (NUL cannot be stored in PostgreSQL text; the
// record encoder rejects it before it gets here.)
void append_text(std::string& out, std::string_view utf8);

// Appends the COPY null marker \N.
void append_null(std::string& out);

// Writes one PostgreSQL array literal ({"a","b",NULL}) as a COPY field, element
// by element, with no intermediate string. Elements are always double-quoted, so
// "NULL", "" and values holding commas, braces or spaces stay strings; inside the
// quotes `"` and `\` are backslash-escaped, and the literal is then COPY-escaped.
class TextArrayWriter {
 public:
  explicit TextArrayWriter(std::string& out) : out_(out) { out_.push_back('{'); }
  void element(std::string_view utf8);
  void null_element();
  // Writes the closing brace; call exactly once.
  void close() { out_.push_back('}'); }

 private:
  void separator() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

// Appends an array literal for `elements` (nullopt = NULL element); {} when empty.
void append_text_array(std::string& out, std::span<const std::optional<std::string_view>> elements);

}  // namespace mdesync::parse
