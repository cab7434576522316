#include "support/temp_dir.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace mdesync::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "mdesync-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path TempDir::write(const std::string& name, const std::string& text,
                                     std::filesystem::perms perms) const {
  const auto file = path_ / name;
  std::filesystem::create_directories(file.parent_path());
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::filesystem::permissions(file, perms, std::filesystem::perm_options::replace);
  return file;
}

}  // namespace mdesync::testing
