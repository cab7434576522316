#pragma once
// A Service on a fake clock, driven through handle() without sockets.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

#include "core/url.hpp"
#include "service.hpp"
#include "url.hpp"

namespace mdesync::fakeapi::testing {

inline constexpr const char* host = "127.0.0.1:8080";
inline constexpr const char* client_id = "client-1";
inline constexpr const char* secret = "s3cret";

inline ServiceConfig base_config() {
  ServiceConfig c;
  c.tenants = {"tenant-a", "tenant-b"};
  c.client_id = client_id;
  c.client_secrets = {secret};
  c.generator.devices = 30;
  c.generator.seed = 5;
  c.blob_secret = "test-blob-secret";
  return c;
}

struct Harness {
  FakeClock clock;
  std::unique_ptr<Service> service;

  explicit Harness(ServiceConfig c = base_config()) : service(std::make_unique<Service>(std::move(c), clock)) {}
  // The service holds a reference to `clock`: never copied or moved.
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  HttpResponse request(std::string method, std::string target, std::string body = {}, std::string token = {},
                       std::string accept_encoding = {}, std::string range = {}, bool loopback = true,
                       std::string host_header = host) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.host = std::move(host_header);
    if (!token.empty()) r.authorization = "Bearer " + token;
    r.accept_encoding = std::move(accept_encoding);
    r.range = std::move(range);
    r.body = std::move(body);
    r.from_loopback = loopback;
    return service->handle(r);
  }
  HttpResponse get(std::string target, std::string token = {}) { return request("GET", std::move(target), {}, std::move(token)); }
  HttpResponse post(std::string target, std::string body = {}) { return request("POST", std::move(target), std::move(body)); }

  static std::string token_form(const std::string& extra = {}) {
    return "grant_type=client_credentials&client_id=" + std::string(client_id) +
           "&scope=" + percent_encode("https://api.securitycenter.microsoft.com/.default") + extra;
  }

  std::string token(const std::string& tenant = "tenant-a") {
    const HttpResponse r = post("/" + tenant + "/oauth2/v2.0/token", token_form("&client_secret=" + std::string(secret)));
    EXPECT_EQ(r.status, 200u) << r.body;
    simdjson::dom::parser p;
    simdjson::dom::element e;
    if (p.parse(r.body).get(e) != simdjson::SUCCESS) return {};
    return std::string(std::string_view(e["access_token"]));
  }
};

// Target (path?query) of an absolute URL this service built.
inline std::string target_of(std::string_view url) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
  return std::string(url.substr(slash));
}

}  // namespace mdesync::fakeapi::testing
