#include "api/client_options.hpp"

namespace mdesync::api {

http::ClientOptions client_options(const config::HttpOptions& http) {
  http::ClientOptions options;
  options.ca_file = http.ca_file;
  options.timeout = http.timeout;
  return options;
}

}  // namespace mdesync::api
