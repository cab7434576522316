#pragma once
// A failed token response, turned into an error a person can act on: it names
// the tenant, the Entra ID error and AADSTS code, and what to change.
//
// Pure (status, body and Retry-After in, an Error out), so that the token fuzz
// target (tests/fuzz/token_target.cpp) runs it on any body: every part of the
// server's text in the message is bounded, one line, valid UTF-8 and free of
// control characters.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/error.hpp"

namespace mdesync::auth {

// Kind: throttled for 429, transient for 5xx (and, for a managed identity, for
// the 404 and 410 IMDS answers while it is not ready yet), auth for everything
// else. `never_show` lists values (the client secret, the assertion, the
// federated token, IDENTITY_HEADER) that are cut out
// of the server's text should it ever echo them.
Error token_error(const config::TenantOptions& tenant, int status, std::string_view body,
                  const std::optional<std::string>& retry_after, std::initializer_list<std::string_view> never_show);

}  // namespace mdesync::auth
