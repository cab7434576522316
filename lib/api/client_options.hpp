#pragma once
#include "config/config.hpp"
#include "http/client.hpp"

namespace mdesync::api {

// The HTTP client settings the config's http section asks for: trust anchors,
// timeout, and the proxy (http.proxy or the environment's) with its NO_PROXY rules.
http::ClientOptions client_options(const config::HttpOptions& http);

}  // namespace mdesync::api
