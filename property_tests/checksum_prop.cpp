// The incremental update (RFC 1624) equals recomputation, and split runs
// equal one buffer.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {

RC_GTEST_PROP(ChecksumProp, IncrementalUpdateEqualsRecompute, (std::vector<std::uint8_t> raw, std::uint16_t new_word)) {
  RC_PRE(raw.size() >= 4);
  ByteVector data(raw.size() & ~std::size_t{1});
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = std::byte{raw[i]};
  }
  // The checksum covers the data with a zero checksum field at [0, 2).
  data[0] = data[1] = std::byte{0};
  const std::uint16_t before = internet_checksum(as_bytes(data));
  const std::size_t at = 2 + 2 * *rc::gen::inRange<std::size_t>(0, (data.size() - 2) / 2);
  const std::uint16_t old_word = load_be16(as_bytes(data), at);
  store_be16(data, at, new_word);
  const std::uint16_t recomputed = internet_checksum(as_bytes(data));
  const std::uint16_t updated = checksum_update(before, old_word, new_word);
  // 0x0000 and 0xffff are the same ones' complement number (RFC 1624 sec. 3).
  RC_ASSERT((updated == recomputed) || (updated == 0xffff && recomputed == 0) || (updated == 0 && recomputed == 0xffff));
}

RC_GTEST_PROP(ChecksumProp, SplitRunsEqualOneBuffer, (std::vector<std::uint8_t> raw)) {
  ByteVector data(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    data[i] = std::byte{raw[i]};
  }
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, data.size() + 1);
  Checksum c;
  c.add(as_bytes(data).first(cut));
  c.add(as_bytes(data).subspan(cut));
  RC_ASSERT(c.finish() == internet_checksum(as_bytes(data)));
}

// The wide inner loop agrees with the plain RFC 1071 definition.
RC_GTEST_PROP(ChecksumProp, MatchesReferenceDefinition, (std::vector<std::uint8_t> raw)) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < raw.size(); i += 2) {
    const std::uint32_t hi = raw[i];
    const std::uint32_t lo = i + 1 < raw.size() ? raw[i + 1] : 0;
    sum += (hi << 8) | lo;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  ByteVector data(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    data[i] = std::byte{raw[i]};
  }
  RC_ASSERT(internet_checksum(as_bytes(data)) == static_cast<std::uint16_t>(~sum));
}

}  // namespace tapstack::wire
