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

}  // namespace

std::string read_secret_file(const std::filesystem::path& path, const std::string& who) {
  const std::string name = path.string();
  const Fd fd(::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) fail(who, "cannot open secret file " + name + ": " + std::strerror(errno));
  // Checked on the open descriptor, so the file judged is the file read.
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail(who, "cannot stat secret file " + name + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(who, "secret file " + name + " is not a regular file");
  // Invariant: a secret that others could read (or replace) is never used.
  // Execute bits grant nothing on a plain file and are not refused.
  const mode_t group_other_read = S_IRGRP | S_IROTH;
  const mode_t group_other_write = S_IWGRP | S_IWOTH;
  if (st.st_mode & (group_other_read | group_other_write)) {
    const char* what = (st.st_mode & group_other_read) ? "readable" : "writable";
    fail(who, "secret file " + name + " is " + what + " by group or others (mode " + mode_text(st.st_mode) +
                  "); chmod 600 it");
  }
  if (st.st_size > max_secret_bytes) fail(who, "secret file " + name + " is larger than 1 MiB");
  std::string data;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(who, "cannot read secret file " + name + ": " + std::strerror(errno));
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (data.size() > static_cast<std::size_t>(max_secret_bytes))
      fail(who, "secret file " + name + " is larger than 1 MiB");
  }
  if (data.empty()) fail(who, "secret file " + name + " is empty");
  return data;
}

std::string read_client_secret(const TenantOptions& tenant) {
  const std::string who = "tenants[" + tenant.name + "]";
  switch (tenant.secret.kind) {
    case SecretKind::file: {
      std::string secret = read_secret_file(tenant.secret.path, who);
      // `echo secret > file` leaves a newline that is not part of the secret.
      while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
      if (secret.empty()) fail(who, "secret file " + tenant.secret.path + " is empty");
      return secret;
    }
    case SecretKind::env: {
      const char* value = std::getenv(tenant.secret.env.c_str());
      if (value == nullptr) fail(who, "environment variable " + tenant.secret.env + " (client_secret_env) is not set");
      if (*value == '\0') fail(who, "environment variable " + tenant.secret.env + " (client_secret_env) is empty");
      return value;
    }
    case SecretKind::certificate:
      fail(who, "authenticates with a certificate; it has no client secret");
  }
  fail(who, "unknown secret kind");
}

}  // namespace mdesync::config
