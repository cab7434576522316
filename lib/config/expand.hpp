#pragma once
// Internal to lib/config: ${VAR} in file paths, expanded at load time.
//
// systemd's LoadCredential= puts secrets under $CREDENTIALS_DIRECTORY, a path
// known only when the service starts, so the config names
// ${CREDENTIALS_DIRECTORY}/contoso and the daemon resolves it here. Only the
// braced form is expanded; a lone '$' is kept as it is.
#include <optional>
#include <string>
#include <string_view>

#include "config/keys.hpp"

namespace mdesync::config::detail {

// The text with every ${NAME} replaced from the environment; nullopt with
// `why` set when a variable is unset or empty, or a ${ is not closed.
std::optional<std::string> expand_env(std::string_view text, std::string* why);

// A path key whose ${VAR}s are expanded before it is stored.
template <typename S, typename F>
Key<S> path_key(std::string_view name, F field, Check<std::string> check = {}) {
  return {name, Shape::scalar, "a path", false,
          [field, check](const YAML::Node& v, const Where& at, S& out, Problems& problems) {
            std::string why;
            auto path = expand_env(v.Scalar(), &why);
            if (!path) return problems.add(at, why);
            if (path->empty()) return problems.add(at, "must not be empty");
            if (check)
              if (auto problem = check(*path)) return problems.add(at, *problem);
            std::invoke(field, out) = std::move(*path);
          }};
}

}  // namespace mdesync::config::detail
