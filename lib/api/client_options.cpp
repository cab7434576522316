#include "api/client_options.hpp"

#include "core/error.hpp"

namespace mdesync::api {

http::ClientOptions client_options(const config::HttpOptions& http) {
  http::ClientOptions options;
  options.ca_file = http.ca_file;
  options.timeout = http.timeout;
  if (http.proxy.enabled()) {
    http::Proxy proxy;
    proxy.host = http.proxy.host;
    proxy.port = std::to_string(http.proxy.port);
    proxy.user = http.proxy.user;
    // Read when a tunnel is opened, not now: a rotated password file is picked up,
    // and an unreadable one fails the request that needs it, as a secret does.
    proxy.password = [settings = http.proxy] {
      try {
        return config::read_proxy_password(settings);
      } catch (const config::ConfigError& e) {
        throw Error(ErrorKind::config, e.what());
      }
    };
    proxy.bypass = http::NoProxy::parse(http.proxy.no_proxy);
    options.proxy = std::move(proxy);
  }
  return options;
}

}  // namespace mdesync::api
