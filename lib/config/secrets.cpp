// Reading client secrets: from a file only the daemon's user can read, or
// from the environment. Runs when a token is needed, not at load time, so a
// credential rotated on disk is picked up without a restart.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "config/config.hpp"

namespace mdesync::config {
namespace {

// Far beyond any secret or PEM key; stops a path pointed at something huge.
constexpr off_t max_secret_bytes = 1 << 20;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const std::string& who, const std::string& message) {
  throw ConfigError({who + ": " + message});
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// `what` names the file in messages ("secret file"); `private_only` refuses
// files that group or others may read or write.
std::string read_small_file(const std::filesystem::path& path, const std::string& who, const std::string& what,
                            bool private_only) {
  const std::string name = path.string();
  const Fd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) fail(who, "cannot open " + what + " " + name + ": " + std::strerror(errno));
  // Checked on the open descriptor, so the file judged is the file read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(who, "cannot stat " + what + " " + name + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(who, what + " " + name + " is not a regular file");
  // Invariant: a secret that others could read (or replace) is never used.
  // Execute bits grant nothing on a plain file and are not refused.
  const mode_t group_other_read = S_IRGRP | S_IROTH;
  const mode_t group_other_write = S_IWGRP | S_IWOTH;
  if (private_only && (st.st_mode & (group_other_read | group_other_write))) {
    const char* what = (st.st_mode & group_other_read) ? "readable" : "writable";
    fail(who, "secret file " + name + " is " + what + " by group or others (mode " + mode_text(st.st_mode) +
                  "); chmod 600 it");
  }
  if (st.st_size > max_secret_bytes) fail(who, what + " " + name + " is larger than 1 MiB");
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(who, "cannot read " + what + " " + name + ": " + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > static_cast<std::size_t>(max_secret_bytes)) fail(who, what + " " + name + " is larger than 1 MiB");
  }
  if (data.empty()) fail(who, what + " " + name + " is empty");
  return data;
}

// `echo secret > file` leaves a newline that is not part of the secret.
std::string without_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::string required_env(const char* name, const std::string& who, const std::string& what) {
  const char* value = std::getenv(name);
  if (value == nullptr) fail(who, "environment variable " + std::string(name) + " (" + what + ") is not set");
  if (*value == '\0') fail(who, "environment variable " + std::string(name) + " (" + what + ") is empty");
  return value;
}

}  // namespace

std::string read_secret_file(const std::filesystem::path& path, const std::string& who) {
  return read_small_file(path, who, "secret file", true);
}

std::string read_client_secret(const TenantOptions& tenant) {
  const std::string who = "tenants[" + tenant.name + "]";
  switch (tenant.secret.kind) {
    case SecretKind::file: {
      std::string secret = without_trailing_newlines(read_secret_file(tenant.secret.path, who));
      if (secret.empty()) fail(who, "secret file " + tenant.secret.path + " is empty");
      return secret;
    }
    case SecretKind::env:
      return required_env(tenant.secret.env.c_str(), who, "client_secret_env");
    case SecretKind::certificate:
      fail(who, "authenticates with a certificate; it has no client secret");
    case SecretKind::managed_identity:
    case SecretKind::workload_identity:
      fail(who, "authenticates without a secret (auth: managed_identity or workload_identity)");
  }
  fail(who, "unknown secret kind");
}

std::string read_proxy_password(const ProxyOptions& proxy) {
  if (proxy.user.empty()) return {};
  if (!proxy.password_file.empty()) {
    std::string password =
        without_trailing_newlines(read_secret_file(proxy.password_file, "http.proxy_password_file"));
    if (password.empty()) fail("http.proxy_password_file", "secret file " + proxy.password_file + " is empty");
    return password;
  }
  if (!proxy.password_env.empty())
    return required_env(proxy.password_env.c_str(), "http.proxy_password_env", "the proxy password");
  return proxy.password_from_url;
}

std::string read_identity_header(const TenantOptions& tenant) {
  return required_env(identity_header_env, "tenants[" + tenant.name + "]",
                      "set by App Service and Container Apps for managed identity");
}

std::string read_federated_token(const TenantOptions& tenant) {
  const std::string who = "tenants[" + tenant.name + "]";
  const std::string path =
      required_env(federated_token_file_env, who, "set by Azure Workload Identity in the pod for auth: workload_identity");
  std::string token = read_small_file(path, who, "federated token file (" + std::string(federated_token_file_env) + ")",
                                      false);
  while (!token.empty() && std::string_view(" \t\r\n").find(token.back()) != std::string_view::npos) token.pop_back();
  if (token.empty()) fail(who, "federated token file " + path + " holds only whitespace");
  return token;
}

}  // namespace mdesync::config
