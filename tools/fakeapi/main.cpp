// mde-fakeapi: argv -> options -> generated tenants -> listening server.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "certificate.hpp"
#include "core/log.hpp"
#include "options.hpp"
#include "server.hpp"
#include "service.hpp"

namespace {

using namespace mdesync;
using namespace mdesync::fakeapi;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Written to a temporary name and renamed, so a reader polling for the file never sees it half-written.
void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write " + tmp);
    out << content;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path);
}

int run(const std::vector<std::string>& args) {
  auto parsed = parse_options(args);
  if (!parsed.options) {
    std::cerr << "mde-fakeapi: " << parsed.error << "\n(see --help)\n";
    return 2;
  }
  Options& o = *parsed.options;
  if (o.help) {
    std::cout << usage();
    return 0;
  }
  if (!o.tls && !is_loopback_host(o.listen_host)) {
    std::cerr << "mde-fakeapi: plain HTTP is served on loopback only; use --tls to listen on " << o.listen_host << "\n";
    return 2;
  }
  log::configure(log::Level::info, log::Format::text, true);

  for (const auto& file : o.client_secret_files) {
    std::string secret = read_file(file);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    o.service.client_secrets.push_back(secret);
  }
  if (!o.client_cert_file.empty()) o.service.client_certificate = Certificate::from_pem(read_file(o.client_cert_file));
  if (!o.identity_header_file.empty()) {
    std::string header = read_file(o.identity_header_file);
    while (!header.empty() && (header.back() == '\n' || header.back() == '\r')) header.pop_back();
    if (header.empty()) throw std::runtime_error(o.identity_header_file + " is empty");
    o.service.identity.identity_header = header;
  }

  ServerOptions so;
  so.listen_host = o.listen_host;
  so.port = o.port;
  so.threads = o.threads;
  so.tls = o.tls;
  if (o.tls) {
    if (!o.cert_file.empty()) {
      so.certificate_pem = read_file(o.cert_file);
      so.private_key_pem = read_file(o.key_file);
    } else {
      const auto generated = make_self_signed(SelfSignedOptions{});
      so.certificate_pem = generated.certificate_pem;
      so.private_key_pem = generated.private_key_pem;
    }
    if (!o.ca_out.empty()) write_file_atomically(o.ca_out, so.certificate_pem);
  }

  const auto started = std::chrono::steady_clock::now();
  Service service(o.service, RealClock::instance());
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  for (const auto& t : o.service.tenants)
    log::info("tenant_generated", {{"tenant", t},
                                   {"devices", o.service.generator.devices},
                                   {"cpe_rows", service.record_count(t, model::Dataset::cpe)},
                                   {"noncpe_rows", service.record_count(t, model::Dataset::noncpe)}});
  log::info("generated", {{"tenants", o.service.tenants.size()}, {"duration_ms", ms.count()}});

  Server server(service, so);
  if (!o.port_file.empty()) write_file_atomically(o.port_file, std::to_string(server.port()) + "\n");
  std::printf("mde-fakeapi listening on %s://%s\n", o.tls ? "https" : "http", server.bound_address().c_str());
  std::fflush(stdout);
  server.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "mde-fakeapi: " << e.what() << "\n";
    return 1;
  }
}
