#include "stack/wire/checksum.hpp"

#include <gtest/gtest.h>

namespace tapstack::wire {
namespace {

// RFC 1071 section 3's example: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2.
TEST(Checksum, Rfc1071Example) {
  const ByteVector data = bytes_from_hex("0001f203f4f5f6f7");
  Checksum c;
  c.add(as_bytes(data));
  EXPECT_EQ(c.sum(), 0xddf2);
  EXPECT_EQ(c.finish(), 0x220d);
}

// An IPv4 header with a correct checksum verifies to zero.
TEST(Checksum, CapturedIpv4HeaderVerifies) {
  const ByteVector header = bytes_from_hex("4500 0054 5c1d 4000 4001 ca89 0a00 0001 0a00 0002");
  EXPECT_EQ(internet_checksum(as_bytes(header)), 0);
}

TEST(Checksum, OddLengthPadsWithZero) {
  const ByteVector odd = bytes_from_hex("0102 03");
  const ByteVector even = bytes_from_hex("0102 0300");
  EXPECT_EQ(internet_checksum(as_bytes(odd)), internet_checksum(as_bytes(even)));
}

TEST(Checksum, SplitRunsEqualOneBuffer) {
  ByteVector data(301);
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<std::byte>(i * 37 + 11);
  }
  const std::uint16_t whole = internet_checksum(as_bytes(data));
  for (std::size_t cut1 : {0u, 1u, 7u, 33u, 150u}) {
    for (std::size_t cut2 : {cut1, cut1 + 1, cut1 + 64, std::size_t{300}}) {
      Checksum c;
      const Bytes b = as_bytes(data);
      c.add(b.first(cut1));
      c.add(b.subspan(cut1, cut2 - cut1));
      c.add(b.subspan(cut2));
      EXPECT_EQ(c.finish(), whole) << cut1 << " " << cut2;
    }
  }
}

TEST(Checksum, AddU16AfterOddRunKeepsPositions) {
  const ByteVector data = bytes_from_hex("aa bb cc dd ee");
  Checksum split;
  split.add(as_bytes(data).first(3));
  split.add_u16(0xddee);
  EXPECT_EQ(split.finish(), internet_checksum(as_bytes(data)));
}

TEST(Checksum, IncrementalUpdateMatchesRecompute) {
  ByteVector header = bytes_from_hex("4500 0054 5c1d 4000 4001 ca89 0a00 0001 0a00 0002");
  // Decrement TTL 0x40 -> 0x3f: the word at offset 8 changes 0x4001 -> 0x3f01.
  const std::uint16_t updated = checksum_update(0xca89, 0x4001, 0x3f01);
  header[8] = std::byte{0x3f};
  header[10] = std::byte{0};
  header[11] = std::byte{0};
  EXPECT_EQ(updated, internet_checksum(as_bytes(header)));
}

}  // namespace
}  // namespace tapstack::wire
