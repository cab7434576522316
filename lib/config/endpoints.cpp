// The documented Microsoft endpoints for each cloud, used when a tenant does
// not name its own api_url, token_url or scope.
#include "config/config.hpp"

namespace mdesync::config {
namespace {

constexpr const char* commercial_api = "https://api.securitycenter.microsoft.com";
constexpr const char* gcc_api = "https://api-gcc.securitycenter.microsoft.us";
constexpr const char* gov_api = "https://api-gov.securitycenter.microsoft.us";  // GCC High and DoD share it
constexpr const char* commercial_login = "https://login.microsoftonline.com";
constexpr const char* gov_login = "https://login.microsoftonline.us";

const char* api_base(Cloud cloud) {
  switch (cloud) {
    case Cloud::commercial:
      return commercial_api;
    case Cloud::gcc:
      return gcc_api;
    case Cloud::gcc_high:
    case Cloud::dod:
      return gov_api;
  }
  return commercial_api;
}

}  // namespace

std::string default_api_url(Cloud cloud, const std::string& region) {
  // Regional hosts (api-eu, ...) exist only in the commercial cloud; validation
  // refuses a region elsewhere, so it is ignored here.
  if (cloud == Cloud::commercial && !region.empty()) return "https://api-" + region + ".securitycenter.microsoft.com";
  return api_base(cloud);
}

std::string default_token_url(Cloud cloud, const std::string& tenant_id) {
  // GCC authenticates against the commercial login host; GCC High and DoD do not.
  const char* login = (cloud == Cloud::gcc_high || cloud == Cloud::dod) ? gov_login : commercial_login;
  return std::string(login) + "/" + tenant_id + "/oauth2/v2.0/token";
}

std::string default_scope(Cloud cloud) {
  // The token's audience is the global API host even when calls go to a regional one.
  return std::string(api_base(cloud)) + "/.default";
}

const char* to_string(Cloud cloud) {
  switch (cloud) {
    case Cloud::commercial:
      return "commercial";
    case Cloud::gcc:
      return "gcc";
    case Cloud::gcc_high:
      return "gcc-high";
    case Cloud::dod:
      return "dod";
  }
  return "unknown";
}

}  // namespace mdesync::config
