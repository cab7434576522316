#pragma once
#include <filesystem>
#include <string>

namespace mdesync::testing {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  // Writes `text` to path()/name with the given permission bits and returns the full path.
  std::filesystem::path write(const std::string& name, const std::string& text,
                              std::filesystem::perms perms = std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write) const;

 private:
  std::filesystem::path path_;
};

}  // namespace mdesync::testing
