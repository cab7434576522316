#pragma once
// mde-fakeapi's command line. Every flag is documented in usage(); fault flags share
// their names with POST /_admin/faults parameters.
#include <optional>
#include <string>
#include <vector>

#include "service.hpp"

namespace mdesync::fakeapi {

struct Options {
  std::string listen_host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string port_file;
  bool tls = false;
  std::string cert_file, key_file, ca_out;
  unsigned threads = 4;
  std::vector<std::string> client_secret_files;
  std::string client_cert_file;
  std::string identity_header_file;  // read by main into service.identity.identity_header
  ServiceConfig service;
  bool help = false;
};

struct OptionsOrError {
  std::optional<Options> options;
  std::string error;
};

// Parses "--name value" and "--name=value". Files are not read here.
OptionsOrError parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace mdesync::fakeapi
