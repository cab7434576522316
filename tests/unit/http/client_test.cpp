// What the client decides before touching the network.
#include "http/client.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "support/temp_dir.hpp"

namespace mdesync::http {
namespace {

TEST(Response, HeaderLookupIgnoresCase) {
  Response r;
  r.headers = {{"Date", "Tue, 01 Jul 2025 10:00:00 GMT"}, {"retry-after", "5"}, {"Retry-After", "9"}};
  EXPECT_EQ(r.header("date"), "Tue, 01 Jul 2025 10:00:00 GMT");
  EXPECT_EQ(r.header("RETRY-AFTER"), "5");
  EXPECT_EQ(r.header("x"), std::nullopt);
  EXPECT_EQ(r.header("Dat"), std::nullopt);
}

TEST(Client, PlainHttpToARemoteHostIsRefusedBeforeResolving) {
  Client client;
  // ".invalid" never resolves: a config error (not transient) proves no lookup happened.
  for (const char* url : {"http://example.invalid/x?sig=SECRET", "http://10.1.2.3:8080/", "http://[::2]/"}) {
    try {
      client.send({"GET", url, {}, {}});
      ADD_FAILURE() << url;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config) << e.what();
      EXPECT_NE(std::string(e.what()).find("use https://"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(client.connections_opened(), 0u);
}

TEST(Client, UnreadableCaFileIsAConfigError) {
  testing::TempDir dir;
  for (const auto& path : {(dir.path() / "missing.pem").string(), dir.write("empty.pem", "no certs here").string()}) {
    ClientOptions options;
    options.ca_file = path;
    try {
      Client client(options);
      ADD_FAILURE() << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::config);
      EXPECT_NE(std::string(e.what()).find("http.ca_file"), std::string::npos) << e.what();
    }
  }
}

TEST(Client, HeaderInjectionIsRefusedWithoutEchoingTheValue) {
  Client client;
  try {
    client.send({"GET", "http://127.0.0.1:1/", {{"Authorization", "Bearer TOKEN\r\nX-Evil: 1"}}, {}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::config) << e.what();  // refused before connecting
    EXPECT_NE(std::string(e.what()).find("Authorization"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("TOKEN"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace mdesync::http
