#include "parse/copy_text.hpp"

#include <array>

namespace mdesync::parse {
namespace {

// For each byte, the letter that follows the backslash in its COPY escape, or 0
// when the byte is written as itself.
constexpr std::array<char, 256> make_copy_escapes() {
  std::array<char, 256> t{};
  t['\\'] = '\\';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\v'] = 'v';
  return t;
}
constexpr auto copy_escapes = make_copy_escapes();

// Inside an array literal `"` and `\` need a literal-level backslash too; the
// marker 1 sends those bytes to the slow path.
constexpr std::array<char, 256> make_element_escapes() {
  auto t = make_copy_escapes();
  t['"'] = 1;
  return t;
}
constexpr auto element_escapes = make_element_escapes();

// Appends `s`, copying runs of plain bytes in one go and calling `escape` for
// each byte whose table entry is non-zero.
template <typename Escape>
void append_escaped(std::string& out, std::string_view s, const std::array<char, 256>& table, Escape escape) {
  const char* p = s.data();
  const char* const end = p + s.size();
  const char* run = p;
  for (; p != end; ++p) {
    const char e = table[static_cast<unsigned char>(*p)];
    if (e == 0) continue;
    out.append(run, p);
    escape(*p, e);
    run = p + 1;
  }
  out.append(run, end);
}

}  // namespace

void append_text(std::string& out, std::string_view utf8) {
  append_escaped(out, utf8, copy_escapes, [&out](char, char e) {
    const char esc[2] = {'\\', e};
    out.append(esc, 2);
  });
}

void append_null(std::string& out) { out.append("\\N", 2); }

void TextArrayWriter::element(std::string_view utf8) {
  separator();
  out_.push_back('"');
  append_escaped(out_, utf8, element_escapes, [this](char c, char e) {
    if (c == '"') {
      out_.append("\\\\\"", 3);  // literal \"  -> COPY \\"
    } else if (c == '\\') {
      out_.append("\\\\\\\\", 4);  // literal \\ -> COPY \\\\ (two escaped backslashes)
    } else {
      const char esc[2] = {'\\', e};
      out_.append(esc, 2);
    }
  });
  out_.push_back('"');
}

void TextArrayWriter::null_element() {
  separator();
  out_.append("NULL", 4);
}

void append_text_array(std::string& out, std::span<const std::optional<std::string_view>> elements) {
  TextArrayWriter w(out);
  for (const auto& e : elements) {
    if (e)
      w.element(*e);
    else
      w.null_element();
  }
  w.close();
}

}  // namespace mdesync::parse
