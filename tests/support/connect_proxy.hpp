#pragma once
// A small HTTP CONNECT proxy on 127.0.0.1, the kind corporate networks put
// between mdesync and Microsoft: it opens tunnels to host:port, optionally only
// for clients that present Basic credentials (407 otherwise), or refuses every
// tunnel. It keeps what a real proxy could see and log: each request head and
// every byte clients sent through its tunnels, so tests can prove that nothing
// but "CONNECT host:port" (and the proxy's own credentials) was readable there.
// Black-holing it: put a BlackholeProxy in front and call blackhole().
//
// Invariant: it never connects anywhere but loopback. A target is either a name
// the test maps to a loopback address (`hosts`, like a corporate DNS the client
// cannot see), or a loopback address itself; anything else is refused with 403.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mdesync::testing {

struct ConnectProxyOptions {
  // Both set: a CONNECT must carry "Proxy-Authorization: Basic base64(user:password)".
  std::string user;
  std::string password;
  // Not 0: every CONNECT is answered with this status (403: a policy that refuses the host).
  int refuse_status = 0;
  // Host names the proxy resolves, to a loopback address ("api.mde.test" -> "127.0.0.1").
  std::map<std::string, std::string> hosts;
};

class ConnectProxy {
 public:
  explicit ConnectProxy(ConnectProxyOptions options = {});
  ~ConnectProxy();  // closes every connection and joins every thread
  ConnectProxy(const ConnectProxy&) = delete;
  ConnectProxy& operator=(const ConnectProxy&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:PORT"
  std::string url() const;

  // The proxy's access log, one line per request: "CONNECT api.mde.test:443 200 user=alice"
  // ("user=-" without credentials, "user=?" with wrong ones).
  std::vector<std::string> log() const;
  // Every byte clients sent: request heads (Proxy-Authorization included) and
  // everything that went through the tunnels.
  std::string seen() const;
  std::size_t tunnels_opened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace mdesync::testing
