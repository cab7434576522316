#include "auth/form.hpp"

#include "core/url.hpp"

namespace mdesync::auth {

std::string form_body(const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  std::string out;
  for (const auto& [key, value] : fields) {
    if (!out.empty()) out += '&';
    out += percent_encode(key);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

}  // namespace mdesync::auth
