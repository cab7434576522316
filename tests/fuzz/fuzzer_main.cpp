// The libFuzzer entry point; CMake builds it once per target with
// MDESYNC_FUZZ_TARGET naming the function in targets.hpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  mdesync::fuzz::MDESYNC_FUZZ_TARGET(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
