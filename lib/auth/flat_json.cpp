#include "auth/flat_json.hpp"

#include <charconv>

namespace mdesync::auth {
namespace {

constexpr int max_depth = 32;

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool at_end() const { return i_ >= s_.size(); }
  bool eat(char c) {
    skip_ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() {
    skip_ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  std::size_t pos() const { return i_; }
  std::string_view slice(std::size_t from) const { return s_.substr(from, i_ - from); }

  // A JSON string at the cursor, unescaped into `out` as UTF-8.
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return false;
      switch (s_[i_++]) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          std::uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a surrogate pair encodes one code point
            std::uint32_t low = 0;
            if (i_ + 1 >= s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          append_utf8(out, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  bool number() {
    skip_ws();
    const std::size_t start = i_;
    if (i_ < s_.size() && s_[i_] == '-') ++i_;
    if (!digits()) return false;
    if (s_[start] == '-' ? s_[start + 1] == '0' && i_ - start > 2 : s_[start] == '0' && i_ - start > 1)
      return false;  // no leading zeros
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) return false;
    }
    return true;
  }

  bool literal(std::string_view word) {
    skip_ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Any JSON value; only checked, not kept.
  bool value(int depth) {
    if (depth > max_depth) return false;
    std::string ignored;
    switch (peek()) {
      case '"': return string(ignored);
      case '{': {
        eat('{');
        if (eat('}')) return true;
        do {
          if (!string(ignored) || !eat(':') || !value(depth + 1)) return false;
        } while (eat(','));
        return eat('}');
      }
      case '[': {
        eat('[');
        if (eat(']')) return true;
        do {
          if (!value(depth + 1)) return false;
        } while (eat(','));
        return eat(']');
      }
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return number();
    }
  }

 private:
  bool digits() {
    const std::size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  bool hex4(std::uint32_t& out) {
    if (i_ + 4 > s_.size()) return false;
    out = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      out <<= 4;
      if (c >= '0' && c <= '9') out |= static_cast<std::uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') out |= static_cast<std::uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') out |= static_cast<std::uint32_t>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

std::optional<std::int64_t> to_integer(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<FlatJson> FlatJson::parse(std::string_view text) {
  Scanner in(text);
  FlatJson out;
  if (!in.eat('{')) return std::nullopt;
  if (!in.eat('}')) {
    do {
      Member m;
      if (!in.string(m.key) || !in.eat(':')) return std::nullopt;
      if (in.peek() == '"') {
        m.is_string = true;
        if (!in.string(m.value)) return std::nullopt;
      } else {
        in.skip_ws();
        const std::size_t start = in.pos();
        if (!in.value(1)) return std::nullopt;
        m.value = std::string(in.slice(start));
      }
      out.members_.push_back(std::move(m));
    } while (in.eat(','));
    if (!in.eat('}')) return std::nullopt;
  }
  in.skip_ws();
  if (!in.at_end()) return std::nullopt;
  return out;
}

const FlatJson::Member* FlatJson::find(std::string_view key) const {
  for (const auto& m : members_)
    if (m.key == key) return &m;
  return nullptr;
}

bool FlatJson::has(std::string_view key) const { return find(key) != nullptr; }

std::optional<std::string> FlatJson::string(std::string_view key) const {
  const auto* m = find(key);
  if (m == nullptr || !m->is_string) return std::nullopt;
  return m->value;
}

std::optional<std::int64_t> FlatJson::integer(std::string_view key) const {
  const auto* m = find(key);
  if (m == nullptr) return std::nullopt;
  if (m->is_string && !m->value.empty() && m->value.front() == '-') return std::nullopt;
  return to_integer(m->value);
}

std::vector<std::int64_t> FlatJson::integers(std::string_view key) const {
  std::vector<std::int64_t> out;
  const auto* m = find(key);
  if (m == nullptr || m->is_string || m->value.empty() || m->value.front() != '[') return out;
  // The array was validated by parse(); split its top level on commas.
  std::string_view body(m->value);
  body = body.substr(1, body.size() - 2);
  while (!body.empty()) {
    const auto comma = body.find(',');
    auto item = body.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\n' || item.front() == '\r' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\n' || item.back() == '\r' || item.back() == '\t'))
      item.remove_suffix(1);
    if (const auto v = to_integer(item)) out.push_back(*v);
    if (comma == std::string_view::npos) break;
    body.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace mdesync::auth
