// The canary: a toy length-prefixed record parser with a planted bug (it
// trusts the length byte). ci/fuzz-smoke requires libFuzzer + ASan to catch it
// within a minute; if they do not, the fuzz harness is broken and every other
// target's silence means nothing. Never "fix" this file.
#include <cstddef>
#include <cstdint>

namespace {

std::uint32_t sum_record(const std::uint8_t* data, std::size_t size) {
  if (size < 2 || data[0] != 0x7e) {
    return 0;
  }
  const std::size_t declared = data[1];
  std::uint32_t sum = 0;
  // Planted bug: reads `declared` bytes without checking them against size.
  for (std::size_t i = 0; i < declared; ++i) {
    sum += data[2 + i];
  }
  return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  volatile std::uint32_t sink = sum_record(data, size);
  (void)sink;
  return 0;
}
