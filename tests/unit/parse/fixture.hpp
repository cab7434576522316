#pragma once
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace mdesync::parse::testing {

// The bytes of tests/fixtures/parse/<name>; fails the test when it cannot be read.
inline std::string read_fixture(const std::string& name) {
  const std::string path = std::string(MDESYNC_FIXTURES_DIR) + "/parse/" + name;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    ADD_FAILURE() << "cannot open fixture " << path;
    return {};
  }
  std::string bytes;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  std::fclose(f);
  return bytes;
}

// Splits text into lines (without their '\n'); a final line without newline counts.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace mdesync::parse::testing
