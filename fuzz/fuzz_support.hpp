#pragma once
// Helpers shared by the fuzz targets.

#include <cstdlib>

#include "stack/base/bytes.hpp"

namespace tapstack::fuzz {

// A violated invariant: abort, so libFuzzer keeps the input as a crasher.
inline void require(bool invariant_holds) {
  if (!invariant_holds) {
    std::abort();
  }
}

// a and b are equal but for the 16-bit checksum at checksum_at, where 0x0000
// and 0xffff count as equal: the two zeros of ones' complement both verify
// (RFC 1624 section 3), and emit always writes one of them.
inline bool same_up_to_zero_checksum(Bytes a, Bytes b, std::size_t checksum_at) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i != checksum_at && i != checksum_at + 1 && a[i] != b[i]) {
      return false;
    }
  }
  const std::uint16_t x = load_be16(a, checksum_at);
  const std::uint16_t y = load_be16(b, checksum_at);
  return x == y || (x == 0x0000 && y == 0xffff) || (x == 0xffff && y == 0x0000);
}

}  // namespace tapstack::fuzz
