#include "config/expand.hpp"

#include <cstdlib>

namespace mdesync::config::detail {
namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (const char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

}  // namespace

std::optional<std::string> expand_env(std::string_view text, std::string* why) {
  auto fail = [why](std::string message) -> std::optional<std::string> {
    if (why) *why = std::move(message);
    return std::nullopt;
  };
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find("${", pos);
    if (start == std::string_view::npos) break;
    const std::size_t close = text.find('}', start + 2);
    if (close == std::string_view::npos) return fail("unterminated ${ in " + std::string(text));
    const std::string name(text.substr(start + 2, close - start - 2));
    if (!valid_name(name)) return fail("bad environment variable name ${" + name + "} in " + std::string(text));
    const char* value = std::getenv(name.c_str());
    // An empty value would turn ${CREDENTIALS_DIRECTORY}/x into /x: refuse it too.
    if (value == nullptr) return fail("environment variable " + name + " is not set");
    if (*value == '\0') return fail("environment variable " + name + " is empty");
    out.append(text.substr(pos, start - pos));
    out.append(value);
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace mdesync::config::detail
