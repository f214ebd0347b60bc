#include "stack/tcp/isn.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace tapstack::tcp {
namespace {

using wire::Ipv4Address;

IsnKey sequential_key() {
  IsnKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) {
    key.bytes[i] = static_cast<std::uint8_t>(i);
  }
  return key;
}

ByteVector sequential_message(std::size_t len) {
  ByteVector message(len);
  for (std::size_t i = 0; i < len; ++i) {
    message[i] = static_cast<std::byte>(i);
  }
  return message;
}

const Ipv4Address kLocal = Ipv4Address::from_octets(10, 0, 0, 2);
const Ipv4Address kRemote = Ipv4Address::from_octets(10, 0, 0, 1);
const Instant kNow = Instant::from_ns(123'456'788'000);  // exactly on a 4 us tick

SeqNum isn(const IsnKey& key, Instant now = kNow, Ipv4Address lip = kLocal, std::uint16_t lport = 80,
           Ipv4Address rip = kRemote, std::uint16_t rport = 40000) {
  return initial_sequence_number(key, lip, lport, rip, rport, now);
}

// The SipHash paper, appendix A: key 00..0f, message 00..0e.
TEST(SipHash24, PaperTestVector) {
  EXPECT_EQ(siphash24(sequential_key(), as_bytes(sequential_message(15))), 0xa129ca6149be45e5ULL);
}

// The reference implementation's vectors (key 00..0f, message 00..len-1),
// covering the empty message and exactly one full word.
TEST(SipHash24, ReferenceVectorsForEmptyAndOneWord) {
  EXPECT_EQ(siphash24(sequential_key(), as_bytes(sequential_message(0))), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(siphash24(sequential_key(), as_bytes(sequential_message(8))), 0x93f5f5799a932462ULL);
}

TEST(SipHash24, EveryLengthUpTo64Differs) {
  std::set<std::uint64_t> seen;
  for (std::size_t len = 0; len <= 64; ++len) {
    seen.insert(siphash24(sequential_key(), as_bytes(sequential_message(len))));
  }
  EXPECT_EQ(seen.size(), 65u);
}

TEST(Isn, DeterministicForTheSameInputs) {
  const IsnKey key = sequential_key();
  EXPECT_EQ(isn(key), isn(key));
  Rng a(42);
  Rng b(42);
  EXPECT_EQ(IsnKey::generate(a), IsnKey::generate(b));
}

TEST(Isn, IsClockPlusKeyedHashOfTheFourTuple) {
  const IsnKey key = sequential_key();
  ByteVector message = bytes_from_hex("0a 00 00 02 00 50 0a 00 00 01 9c 40");
  const auto f = static_cast<std::uint32_t>(siphash24(key, as_bytes(message)));
  EXPECT_EQ(isn_offset(key, kLocal, 80, kRemote, 40000), f);
  const auto m = static_cast<std::uint32_t>(123'456'788'000 / 4'000);
  EXPECT_EQ(isn(key).raw(), static_cast<std::uint32_t>(m + f));
}

TEST(Isn, DifferentFourTuplesDiffer) {
  const IsnKey key = sequential_key();
  const Ipv4Address other = Ipv4Address::from_octets(10, 0, 0, 3);
  std::vector<SeqNum> isns{
      isn(key),
      isn(key, kNow, other),
      isn(key, kNow, kLocal, 81),
      isn(key, kNow, kLocal, 80, other),
      isn(key, kNow, kLocal, 80, kRemote, 40001),
      isn(key, kNow, kRemote, 40000, kLocal, 80),  // the reverse direction
      isn(key, kNow, kLocal, 40000, kRemote, 80),  // ports swapped
  };
  for (std::size_t i = 0; i < isns.size(); ++i) {
    for (std::size_t j = i + 1; j < isns.size(); ++j) {
      EXPECT_NE(isns[i], isns[j]) << i << " vs " << j;
    }
  }
}

TEST(Isn, ManyClientPortsGiveDistinctIsns) {
  const IsnKey key = sequential_key();
  std::set<std::uint32_t> seen;
  for (std::uint32_t port = 32768; port < 32768 + 1000; ++port) {
    seen.insert(isn(key, kNow, kLocal, 80, kRemote, static_cast<std::uint16_t>(port)).raw());
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(Isn, AdvancesWithTimeAt250kPerSecond) {
  const IsnKey key = sequential_key();
  EXPECT_EQ(isn(key, kNow + Duration::seconds(1)) - isn(key), SeqLen{250'000});
  EXPECT_EQ(isn(key, kNow + Duration::microseconds(4)) - isn(key), SeqLen{1});
  EXPECT_EQ(isn(key, kNow + Duration::nanoseconds(3'999)), isn(key));  // kNow is on a tick
  EXPECT_EQ(isn(key, kNow + Duration::seconds(10)) - isn(key), SeqLen{2'500'000});
}

TEST(Isn, ClockTicksEveryFourMicrosecondsAndWraps) {
  EXPECT_EQ(isn_clock(Instant::epoch()), SeqNum{0});
  EXPECT_EQ(isn_clock(Instant::from_ns(3'999)), SeqNum{0});
  EXPECT_EQ(isn_clock(Instant::from_ns(4'000)), SeqNum{1});
  EXPECT_EQ(isn_clock(Instant::epoch() + Duration::seconds(1)), SeqNum{250'000});
  // 2^32 ticks of 4 us later, M is back where it started (~4.77 hours).
  const std::int64_t period_ns = (std::int64_t{1} << 32) * 4'000;
  EXPECT_EQ(isn_clock(Instant::from_ns(period_ns + 8'000)), SeqNum{2});
  // Floor division keeps M monotonic before the epoch.
  EXPECT_EQ(isn_clock(Instant::from_ns(-1)), SeqNum{0xffffffffu});
  EXPECT_EQ(isn_clock(Instant::from_ns(-4'000)), SeqNum{0xffffffffu});
  EXPECT_EQ(isn_clock(Instant::from_ns(-4'001)), SeqNum{0xfffffffeu});
}

TEST(Isn, DifferentKeysDiffer) {
  Rng rng(7);
  const IsnKey a = IsnKey::generate(rng);
  const IsnKey b = IsnKey::generate(rng);
  EXPECT_NE(a, b);
  EXPECT_NE(isn(a), isn(b));
  EXPECT_NE(isn(a), isn(sequential_key()));
  IsnKey one_bit = sequential_key();
  one_bit.bytes[15] ^= 0x80;
  EXPECT_NE(isn(one_bit), isn(sequential_key()));
}

TEST(Isn, KeyFromRngUsesAll128Bits) {
  Rng rng(1);
  const std::uint64_t w0 = rng.next_u64();
  const std::uint64_t w1 = rng.next_u64();
  Rng again(1);
  const IsnKey key = IsnKey::generate(again);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(key.bytes[i], static_cast<std::uint8_t>(w0 >> (8 * i)));
    EXPECT_EQ(key.bytes[8 + i], static_cast<std::uint8_t>(w1 >> (8 * i)));
  }
  Rng other(2);
  EXPECT_NE(IsnKey::generate(other), key);
}

}  // namespace
}  // namespace tapstack::tcp
