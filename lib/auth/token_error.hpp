#pragma once
// A failed token response, turned into an error a person can act on: it names
// the tenant, the Entra ID error and AADSTS code, and what to change.
#include <initializer_list>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"
#include "http/transport.hpp"

namespace mdesync::auth {

// Kind: throttled for 429, transient for 5xx, auth for everything else.
// `never_show` lists values (the client secret, the assertion) that are cut out
// of the server's text should it ever echo them.
Error token_error(const config::TenantOptions& tenant, const http::Response& response,
                  std::initializer_list<std::string_view> never_show);

}  // namespace mdesync::auth
