// The only translation unit that includes Beast and Asio (they cost ~14 s each).
//
// Shape: Beast's SSL client examples, made blocking for the caller. Each Client
// owns a private io_context; every step starts one async operation with a fresh
// deadline (tcp_stream::expires_after) and runs the io_context until that
// operation completes. Expected outcomes are handled where they happen; all else
// becomes an mdesync::Error with a kind the caller's retry policy understands.
#include "http/client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "codec/gzip.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/url.hpp"
#include "http/proxy.hpp"

namespace mdesync::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using BodySink = std::function<void(std::string_view)>;
using HeadSink = std::function<void(const Response&)>;

constexpr std::size_t read_chunk_size = 64 * 1024;
constexpr std::size_t body_slack_bytes = 64;

std::string ms_text(std::chrono::milliseconds d) { return std::to_string(d.count()) + " ms"; }

// "host:port/path?<redacted>": where a failure happened, safe to log.
std::string where(const Url& url) { return log::redact_url(url.authority() + url.target); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

bool valid_token(std::string_view s) {  // RFC 9110 token (method and header names)
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || std::string_view("\"(),/:;<=>?@[\\]{}").find(c) != std::string_view::npos)
      return false;
  }
  return true;
}

bool valid_header_value(std::string_view s) {
  for (const char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

// Errors that mean "the peer had already closed this connection": on a reused
// keep-alive connection, before any response byte, the request never reached a
// live server and is safe to send once more on a new connection.
bool is_stale_connection_error(const error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::error::not_connected || ec == asio::error::bad_descriptor || ec == ssl::error::stream_truncated;
}

// Names the certificate is valid for, for the host-mismatch message.
std::string certificate_names(X509* cert) {
  std::string out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return "no subjectAltName";
  const int count = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < count && i < 5; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string text;
    if (name->type == GEN_DNS) {
      const auto* s = name->d.dNSName;
      text.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (name->type == GEN_IPADD) {
      const auto* s = name->d.iPAddress;
      if (ASN1_STRING_length(s) == 4) {
        asio::ip::address_v4::bytes_type b;
        std::memcpy(b.data(), ASN1_STRING_get0_data(s), 4);
        text = asio::ip::address_v4(b).to_string();
      } else if (ASN1_STRING_length(s) == 16) {
        asio::ip::address_v6::bytes_type b;
        std::memcpy(b.data(), ASN1_STRING_get0_data(s), 16);
        text = asio::ip::address_v6(b).to_string();
      }
    }
    if (text.empty()) continue;
    if (!out.empty()) out += ", ";
    out += text;
  }
  if (count > 5) out += ", ...";
  GENERAL_NAMES_free(names);
  return out.empty() ? "no DNS or IP names" : out;
}

ssl::context make_tls_context(const ClientOptions& options) {
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_verify_mode(ssl::verify_peer);
  error_code ec;
  // A host without a system store still works with ca_file; a missing store
  // shows up as a verification failure naming http.ca_file.
  ctx.set_default_verify_paths(ec);
  if (!options.ca_file.empty()) {
    ctx.load_verify_file(options.ca_file, ec);
    if (ec)
      throw Error(ErrorKind::config,
                  "http.ca_file: cannot load trust anchors from \"" + options.ca_file + "\": " + ec.message());
  }
  return ctx;
}

// A proxy's header value, safe to show: printable ASCII, bounded, and without
// what we sent it (a careless proxy may echo Proxy-Authorization back).
std::string shown_header(std::string_view value, std::initializer_list<std::string_view> sent) {
  constexpr std::size_t max_shown = 200;
  std::string out;
  for (const char c : value)
    if (c >= 0x20 && c < 0x7f) out += c;
  out = log::redact(std::move(out), sent);
  if (out.size() > max_shown) out = out.substr(0, max_shown) + "...";
  return out;
}

// The authentication schemes a 407's Proxy-Authenticate offers ("Basic, NTLM").
std::string offered_schemes(const bhttp::response_header<>& head) {
  std::string out;
  for (const auto& field : head) {
    if (field.name() != bhttp::field::proxy_authenticate) continue;
    const auto value = field.value();
    const auto end = value.find(' ');
    if (!out.empty()) out += ", ";
    out += std::string(value.substr(0, end));
  }
  return out;
}

bool offers_basic(const bhttp::response_header<>& head) {
  for (const auto& field : head)
    if (field.name() == bhttp::field::proxy_authenticate) {
      const std::string value = lower(field.value());
      if (value.substr(0, value.find(' ')) == "basic") return true;
    }
  return false;
}

// A proxy that did not open the tunnel. 407 and other refusals need a person
// (config, fatal); a proxy that could not reach the host (502, 503, 504) may
// manage next time (transient).
Error proxy_refusal(const Proxy& proxy, const std::string& target, const bhttp::response_header<>& head,
                    std::initializer_list<std::string_view> sent) {
  const int status = static_cast<int>(head.result_int());
  const std::string answer = "HTTP " + std::to_string(status) +
                             (head.reason().empty() ? "" : " " + shown_header(head.reason(), sent));
  const std::string who = "proxy " + proxy.authority();
  if (status == 407) {
    std::string challenge = "Proxy-Authenticate: " + shown_header(offered_schemes(head), sent);
    if (challenge == "Proxy-Authenticate: ") challenge = "no Proxy-Authenticate";
    if (!offers_basic(head) && challenge != "no Proxy-Authenticate")
      return Error(ErrorKind::config, who + " asks for credentials to open a tunnel to " + target + " (" + answer +
                                          ", " + challenge +
                                          "); mdesync authenticates with Basic only: ask for a Basic account, or "
                                          "for a rule that lets this host through without authentication");
    if (proxy.user.empty())
      return Error(ErrorKind::config, who + " asks for credentials to open a tunnel to " + target + " (" + answer +
                                          ", " + challenge + "); give its user in http.proxy (http://USER@" +
                                          proxy.authority() +
                                          ") and the password in http.proxy_password_file or "
                                          "http.proxy_password_env");
    return Error(ErrorKind::config, who + " refused the credentials of user " + shown_header(proxy.user, sent) +
                                        " for a tunnel to " + target + " (" + answer + ", " + challenge +
                                        "); check the proxy password (http.proxy_password_file, "
                                        "http.proxy_password_env, or the one in HTTPS_PROXY)");
  }
  if (status == 502 || status == 503 || status == 504)
    return Error(ErrorKind::transient, who + " could not open a tunnel to " + target + " (" + answer + ")");
  return Error(ErrorKind::fatal, who + " refused a tunnel to " + target + " (" + answer +
                                     "); ask its administrators to allow " + target +
                                     ", or list the host in http.no_proxy if it is reachable directly");
}

// One kept-alive connection to one origin.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  // Beast reads from the socket as much as the buffer has room for, and an empty
  // flat_buffer offers 512 bytes: without this, a 50 MB page costs 100,000 reads.
  beast::flat_buffer buffer = [] {
    beast::flat_buffer b;
    b.reserve(read_chunk_size);
    return b;
  }();
  std::string verify_failure;  // why the verify callback refused the peer, if it did
  std::size_t exchanges = 0;   // completed request/response pairs; > 0 means "reused"

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// What one attempt on one connection produced.
struct Outcome {
  std::optional<Response> response;  // empty: the reused connection was stale, retry once
  bool keep_alive = false;
};

}  // namespace

struct Client::Impl {
  ClientOptions options;
  asio::io_context ioc{1};
  ssl::context tls_ctx;
  std::map<std::string, std::unique_ptr<Connection>> connections;  // by origin
  std::size_t opened = 0;
  std::vector<char> chunk = std::vector<char>(read_chunk_size);

  explicit Impl(ClientOptions o) : options(std::move(o)), tls_ctx(make_tls_context(options)) {}

  // Starts one async operation and runs the io_context until it completed.
  template <class Initiate>
  error_code wait(Initiate&& initiate) {
    error_code result = asio::error::operation_aborted;
    initiate([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    if (interrupt_requested()) throw Error(ErrorKind::transient, "interrupted: " + interrupt_reason);
    return result;
  }

  // interrupt(): set from another thread while a request runs; the request's
  // thread closes the sockets (a handler posted to its io_context) and fails.
  std::mutex interrupt_mutex;
  bool busy = false;
  bool interrupted = false;
  std::string interrupt_reason;
  Connection* connecting = nullptr;  // only touched on the request's thread
  bool interrupt_requested() {
    std::lock_guard lock(interrupt_mutex);
    return interrupted;
  }
  void set_busy(bool b) {
    std::lock_guard lock(interrupt_mutex);
    busy = b;
    if (b) interrupted = false;
  }

  template <class Fn>
  decltype(auto) with_stream(Connection& c, Fn&& fn) {
    if (c.tls) return fn(*c.tls);
    return fn(*c.plain);
  }

  Response perform(const Request& request, const BodySink* on_body, const HeadSink* on_head);
  std::unique_ptr<Connection> connect(const Url& url);
  void open_tunnel(Connection& c, const Url& url, const Proxy& proxy);
  Outcome exchange(Connection& c, const Url& url, bhttp::request<bhttp::string_body>& req, const BodySink* on_body,
                   const HeadSink* on_head);
  bhttp::request<bhttp::string_body> build(const Url& url, const Request& request) const;
  [[noreturn]] void fail(const error_code& ec, std::string_view doing, const std::string& place) const;
};

void Client::Impl::fail(const error_code& ec, std::string_view doing, const std::string& place) const {
  if (ec == beast::error::timeout)
    throw Error(ErrorKind::transient,
                "timed out after " + ms_text(options.timeout) + " " + std::string(doing) + " " + place);
  throw Error(ErrorKind::transient, std::string(doing) + " " + place + " failed: " + ec.message());
}

std::unique_ptr<Connection> Client::Impl::connect(const Url& url) {
  // Through the proxy, only the proxy's name is resolved here: the host's is the
  // proxy's business (a network that needs a proxy often has no public DNS).
  const Proxy* proxy = options.proxy && options.proxy->carries(url) ? &*options.proxy : nullptr;
  const std::string& peer_host = proxy ? proxy->host : url.host;
  const std::string& peer_port = proxy ? proxy->port : url.port;
  const std::string peer = proxy ? "proxy " + proxy->authority() : url.authority();
  // getaddrinfo cannot be cancelled, so resolving is bounded by the system
  // resolver's own timeout and attempts (resolv.conf), not by options.timeout.
  tcp::resolver resolver(ioc);
  error_code ec;
  auto results = resolver.resolve(peer_host, peer_port, ec);
  if (ec)
    throw Error(ErrorKind::transient,
                "cannot resolve " + std::string(proxy ? "proxy host " : "host ") + peer_host + ": " + ec.message());
  const bool metadata = url.scheme == "http" && options.allow_instance_metadata && url.is_instance_metadata();
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) {
    // Plain http is allowed for loopback only; a "localhost" that resolves
    // elsewhere does not get to carry a token in clear text. (A literal address
    // resolves to itself, so the metadata address stays what it is.)
    if (url.scheme == "http" && !entry.endpoint().address().is_loopback() && !metadata) continue;
    endpoints.push_back(entry.endpoint());
  }
  if (endpoints.empty())
    throw Error(ErrorKind::config, "host " + url.host + " does not resolve to a loopback address; use https://");

  auto c = std::make_unique<Connection>();
  if (url.scheme == "https") {
    c->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ioc, tls_ctx);
    // SNI carries host names only (RFC 6066); IP literals are verified against
    // the certificate's IP addresses instead.
    if (!url.is_ip_literal() && !SSL_set_tlsext_host_name(c->tls->native_handle(), url.host.c_str()))
      throw Error(ErrorKind::fatal, "cannot set TLS server name for host " + url.host);
    c->tls->set_verify_mode(ssl::verify_peer);
    c->tls->set_verify_callback([conn = c.get(), host = url.host](bool preverified, ssl::verify_context& vctx) {
      if (!preverified) {
        if (conn->verify_failure.empty())
          conn->verify_failure = X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.native_handle()));
        return false;
      }
      if (!ssl::host_name_verification(host)(preverified, vctx)) {
        if (conn->verify_failure.empty())
          conn->verify_failure = "the certificate is for " +
                                 certificate_names(X509_STORE_CTX_get_current_cert(vctx.native_handle())) +
                                 ", not " + host;
        return false;
      }
      return true;
    });
  } else {
    c->plain = std::make_unique<beast::tcp_stream>(ioc);
  }

  auto& tcp = c->lowest();
  connecting = c.get();  // what an interrupt closes before it is in `connections`
  struct Connected {
    Impl& impl;
    ~Connected() { impl.connecting = nullptr; }
  } connected{*this};
  tcp.expires_after(options.timeout);
  ec = wait([&](auto handler) { tcp.async_connect(endpoints, std::move(handler)); });
  if (ec) fail(ec, "connecting to", peer);
  if (proxy) open_tunnel(*c, url, *proxy);

  if (c->tls) {
    tcp.expires_after(options.timeout);
    ec = wait([&](auto handler) { c->tls->async_handshake(ssl::stream_base::client, std::move(handler)); });
    if (ec && !c->verify_failure.empty()) {
      // Invariant: a peer we cannot verify is never talked to, and retrying will not help.
      const bool mismatch = c->verify_failure.rfind("the certificate is for ", 0) == 0;
      throw Error(ErrorKind::fatal, "TLS certificate verification failed for host " + url.host + ": " +
                                        c->verify_failure +
                                        (mismatch ? "; check the host name in the URL"
                                                  : "; set http.ca_file if it is signed by a private CA"));
    }
    if (ec && ec.category() == asio::error::get_ssl_category())
      throw Error(ErrorKind::fatal, "TLS handshake with host " + url.host + " failed: " + ec.message());
    if (ec) fail(ec, "TLS handshake with", url.authority());
  }
  ++opened;
  log::debug("http_connect", {{"host", url.authority()},
                              {"tls", c->tls ? "yes" : "no"},
                              {"proxy", proxy ? proxy->authority() : "none"}});
  return c;
}

void Client::Impl::open_tunnel(Connection& c, const Url& url, const Proxy& proxy) {
  // "host:port" always, the port included (RFC 9110 9.3.6). This line, Host,
  // User-Agent and Proxy-Authorization are all the proxy ever sees of a request.
  const std::string target =
      (url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host) + ":" + url.port;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::connect, target, 11};
  req.set(bhttp::field::host, target);
  req.set(bhttp::field::user_agent, options.user_agent);
  std::string password, credentials;
  if (!proxy.user.empty()) {
    if (proxy.password) password = proxy.password();
    credentials = basic_credentials(proxy.user, password);
    req.set(bhttp::field::proxy_authorization, credentials);
  }
  auto& tcp = c.lowest();
  tcp.expires_after(options.timeout);
  error_code ec = wait([&](auto handler) { bhttp::async_write(tcp, req, std::move(handler)); });
  if (ec) fail(ec, "sending CONNECT " + target + " to", "proxy " + proxy.authority());

  // Only the head is read: a 2xx answer has no body, the tunnel starts right
  // after it, and a refusal closes this connection anyway.
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.skip(true);
  beast::flat_buffer buffer;
  tcp.expires_after(options.timeout);
  ec = wait([&](auto handler) { bhttp::async_read_header(tcp, buffer, parser, std::move(handler)); });
  if (ec) fail(ec, "waiting for proxy " + proxy.authority() + " to open a tunnel to", target);
  const auto& head = parser.get();
  if (head.result_int() < 200 || head.result_int() >= 300)
    throw proxy_refusal(proxy, target, head, {password, credentials});
  // Bytes after the head would be read as the host's TLS answer: the tunnel is
  // not what the proxy said it is.
  if (buffer.size() != 0)
    throw Error(ErrorKind::fatal, "proxy " + proxy.authority() + " sent data of its own after opening a tunnel to " +
                                      target + "; refusing to use it");
  log::debug("http_tunnel", {{"proxy", proxy.authority()}, {"host", target}});
}

bhttp::request<bhttp::string_body> Client::Impl::build(const Url& url, const Request& request) const {
  if (!valid_token(request.method)) throw Error(ErrorKind::config, "invalid HTTP method for " + where(url));
  bhttp::request<bhttp::string_body> req;
  req.version(11);
  const auto verb = bhttp::string_to_verb(request.method);
  if (verb == bhttp::verb::unknown)
    req.method_string(request.method);
  else
    req.method(verb);
  req.target(url.target);
  req.set(bhttp::field::host, url.authority());
  req.set(bhttp::field::user_agent, options.user_agent);
  bool has_accept_encoding = false;
  for (const auto& [name, value] : request.headers) {
    // The value is never echoed: it may be a bearer token.
    if (!valid_token(name) || !valid_header_value(value))
      throw Error(ErrorKind::config, "invalid request header \"" + (valid_token(name) ? name : "?") + "\" for " +
                                         where(url));
    if (lower(name) == "accept-encoding") has_accept_encoding = true;
    req.set(name, value);
  }
  if (options.accept_gzip && !has_accept_encoding) req.set(bhttp::field::accept_encoding, "gzip");
  req.body() = request.body;
  req.prepare_payload();
  return req;
}

Outcome Client::Impl::exchange(Connection& c, const Url& url, bhttp::request<bhttp::string_body>& req,
                               const BodySink* on_body, const HeadSink* on_head) {
  const bool reused = c.exchanges > 0;
  auto& tcp = c.lowest();

  tcp.expires_after(options.timeout);
  error_code ec = with_stream(c, [&](auto& s) {
    return wait([&](auto handler) { bhttp::async_write(s, req, std::move(handler)); });
  });
  if (ec && reused && is_stale_connection_error(ec)) return {};
  if (ec) fail(ec, "sending request to", where(url));

  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);  // send() enforces max_body on the inflated size itself
  if (req.method() == bhttp::verb::head) parser.skip(true);
  tcp.expires_after(options.timeout);
  ec = with_stream(c, [&](auto& s) {
    return wait([&](auto handler) { bhttp::async_read_header(s, c.buffer, parser, std::move(handler)); });
  });
  if (ec && reused && !parser.got_some() && c.buffer.size() == 0 && is_stale_connection_error(ec)) return {};
  if (ec) fail(ec, "reading response header from", where(url));

  Outcome out;
  out.response.emplace();
  Response& response = *out.response;
  const auto& head = parser.get();
  response.status = static_cast<int>(head.result_int());
  const auto encoding = lower(trim(head[bhttp::field::content_encoding]));
  const bool gunzip = encoding == "gzip" || encoding == "x-gzip";
  for (const auto& field : head) {
    // After inflating, these describe bytes the caller never sees.
    if (gunzip && (field.name() == bhttp::field::content_encoding || field.name() == bhttp::field::content_length))
      continue;
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  // Only a successful answer streams; an error body is small and read whole.
  if (response.status < 200 || response.status >= 300) on_body = nullptr;
  if (on_body && on_head && *on_head) (*on_head)(response);
  const auto content_length = parser.content_length();
  if (!on_body && !gunzip && content_length) {
    // Refuse before reading what we would refuse after reading.
    if (*content_length > options.max_body)
      throw Error(ErrorKind::fatal, "response body from " + where(url) + " exceeds http max_body (" +
                                        std::to_string(*content_length) + " > " + std::to_string(options.max_body) +
                                        " bytes)");
    // The slack lets a JSON parser pad the body in place (simdjson needs 64 bytes)
    // instead of copying a page that may be 100 MB.
    response.body.reserve(static_cast<std::size_t>(*content_length) + body_slack_bytes);
  }

  // Body bytes, after inflating, go to the caller's sink or into response.body.
  std::uint64_t delivered = 0;
  const BodySink deliver = [&](std::string_view bytes) {
    delivered += bytes.size();
    if (on_body) {
      (*on_body)(bytes);
      return;
    }
    if (delivered > options.max_body)
      throw Error(ErrorKind::fatal, "response body from " + where(url) + " exceeds http max_body (" +
                                        std::to_string(options.max_body) + " bytes)");
    response.body.append(bytes);
  };
  std::optional<codec::GzipInflater> inflater;
  if (gunzip) inflater.emplace(deliver);

  std::uint64_t received = 0;  // bytes on the wire (before inflating)
  const auto truncated = [&](const error_code& e) {
    const std::string of = content_length ? " of " + std::to_string(*content_length) : "";
    if (e == beast::error::timeout)
      return Error(ErrorKind::transient, "timed out after " + ms_text(options.timeout) + " reading body from " +
                                             where(url) + " (got " + std::to_string(received) + of + " bytes)");
    return Error(ErrorKind::transient, "truncated body: got " + std::to_string(received) + of + " bytes from " +
                                           where(url) + " (" + e.message() + ")");
  };
  try {
    while (!parser.is_done()) {
      auto& body = parser.get().body();
      body.data = chunk.data();
      body.size = chunk.size();
      tcp.expires_after(options.timeout);
      ec = with_stream(c, [&](auto& s) {
        return wait([&](auto handler) { bhttp::async_read(s, c.buffer, parser, std::move(handler)); });
      });
      if (ec == bhttp::error::need_buffer) ec = {};  // the chunk is full: hand it over, read on
      const std::size_t n = chunk.size() - parser.get().body().size;
      if (n > 0) {
        received += n;
        const std::string_view bytes(chunk.data(), n);
        if (inflater)
          inflater->feed(bytes);
        else
          deliver(bytes);
      }
      if (ec) throw truncated(ec);
    }
    if (inflater && received > 0) inflater->finish();
  } catch (const codec::GzipError& e) {
    throw Error(ErrorKind::transient, "bad gzip body from " + where(url) + ": " + e.what());
  }
  out.keep_alive = parser.keep_alive();
  return out;
}

Response Client::Impl::perform(const Request& request, const BodySink* on_body, const HeadSink* on_head) {
  const Url url = Url::parse(request.url);
  if (url.scheme == "http" && !url.is_loopback() && !(options.allow_instance_metadata && url.is_instance_metadata()))
    throw Error(ErrorKind::config, "refusing plain http:// to non-loopback host " + url.host + " (" +
                                       log::redact_url(request.url) + "); use https://");
  auto req = build(url, request);  // before connecting: a bad request never costs a connection
  const std::string origin = url.origin();
  set_busy(true);
  struct Idle {
    Impl& impl;
    ~Idle() { impl.set_busy(false); }
  } idle{*this};
  // At most two rounds: the second runs on a fresh connection, which cannot be stale.
  for (;;) {
    auto it = connections.find(origin);
    if (it == connections.end()) it = connections.emplace(origin, connect(url)).first;
    Connection& c = *it->second;
    Outcome out;
    try {
      out = exchange(c, url, req, on_body, on_head);
    } catch (...) {
      connections.erase(origin);  // its state is unknown: never reuse it
      throw;
    }
    if (!out.response) {
      connections.erase(origin);
      log::debug("http_reconnect", {{"host", url.authority()}, {"reason", "stale keep-alive connection"}});
      continue;
    }
    ++c.exchanges;
    if (!out.keep_alive) connections.erase(origin);
    return std::move(*out.response);
  }
}

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

Response Client::send(const Request& request) { return impl_->perform(request, nullptr, nullptr); }

Response Client::stream(const Request& request, const std::function<void(std::string_view)>& on_body,
                        const std::function<void(const Response&)>& on_head) {
  return impl_->perform(request, &on_body, &on_head);
}

void Client::close() { impl_->connections.clear(); }

void Client::interrupt(const std::string& why) {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.interrupt_mutex);
  if (!impl.busy || impl.interrupted) return;
  impl.interrupted = true;
  impl.interrupt_reason = why;
  asio::post(impl.ioc, [&impl] {
    const auto close = [](Connection& c) {
      error_code ignored;
      c.lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      c.lowest().socket().close(ignored);
    };
    for (auto& [origin, connection] : impl.connections) close(*connection);
    if (impl.connecting != nullptr) close(*impl.connecting);
  });
}

std::size_t Client::connections_opened() const { return impl_->opened; }

}  // namespace mdesync::http
