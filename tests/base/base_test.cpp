#include <gtest/gtest.h>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"
#include "stack/wire/address.hpp"

namespace tapstack {
namespace {

TEST(Bytes, BigEndianLoadsAndStores) {
  ByteVector b(6);
  store_be16(b, 0, 0x1234);
  store_be32(b, 2, 0xdeadbeef);
  EXPECT_EQ(b, bytes_from_hex("1234deadbeef"));
  EXPECT_EQ(load_be16(as_bytes(b), 0), 0x1234);
  EXPECT_EQ(load_be32(as_bytes(b), 2), 0xdeadbeefu);
}

TEST(Bytes, HexRejectsMalformedText) {
  EXPECT_TRUE(bytes_from_hex("abc").empty());
  EXPECT_TRUE(bytes_from_hex("zz").empty());
  EXPECT_EQ(bytes_from_hex("0A:ff").size(), 2u);
}

TEST(Result, HoldsValueOrError) {
  Result<int, char> good = 5;
  Result<int, char> bad = fail('x');
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), 'x');
}

TEST(ResultDeathTest, ReadingTheWrongSideAborts) {
  Result<int, char> bad = fail('x');
  EXPECT_DEATH((void)bad.value(), "");
}

TEST(Time, ArithmeticAndOrdering) {
  const Instant t0 = Instant::from_ns(1'000);
  const Instant t1 = t0 + Duration::milliseconds(2);
  EXPECT_EQ((t1 - t0).us(), 2'000);
  EXPECT_LT(t0, t1);
  EXPECT_LT(t1, Instant::never());
}

TEST(Rng, SameSeedSameStreamDifferentSeedDiffers) {
  Rng a(42);
  Rng b(42);
  Rng c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= (x != c.next_u64());
  }
  EXPECT_TRUE(differs);
}

// Pinned outputs: the generator must give the same numbers on every platform
// and standard library, or recorded seeds stop reproducing.
TEST(Rng, OutputIsPinned) {
  SplitMix64 mix(0);
  EXPECT_EQ(mix.next(), 0xe220a8397b1dcdafULL);  // SplitMix64's published first output for seed 0
  Rng r(1);
  const std::uint64_t first = r.next_u64();
  Rng again(1);
  EXPECT_EQ(again.next_u64(), first);
}

TEST(Rng, BelowStaysInRangeAndCoversIt) {
  Rng r(7);
  int seen[10] = {};
  for (int i = 0; i < 10'000; ++i) {
    const auto v = r.below(10);
    ASSERT_LT(v, 10u);
    ++seen[v];
  }
  for (int count : seen) {
    EXPECT_GT(count, 800);  // expected 1000 each; 800 is > 6 sigma below
  }
}

TEST(Rng, DerivedSeedsAreIndependentOfEachOther) {
  EXPECT_EQ(derive_seed(1, 5), derive_seed(1, 5));
  EXPECT_NE(derive_seed(1, 5), derive_seed(1, 6));
  EXPECT_NE(derive_seed(1, 5), derive_seed(2, 5));
}

TEST(Address, ParsesAndPrints) {
  auto mac = wire::MacAddress::parse("02:00:0a:00:00:01");
  ASSERT_TRUE(mac.has_value());
  EXPECT_EQ(mac->to_string(), "02:00:0a:00:00:01");
  EXPECT_FALSE(wire::MacAddress::parse("02:00:0a:00:00").has_value());
  EXPECT_FALSE(wire::MacAddress::parse("02-00-0a-00-00-01").has_value());
  auto ip = wire::Ipv4Address::parse("10.0.0.254");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->value, 0x0a0000feu);
  EXPECT_EQ(ip->to_string(), "10.0.0.254");
  for (const char* bad : {"10.0.0", "10.0.0.256", "10.0.0.1.", "a.b.c.d", "1.2.3.-4", "1.2.3.0004", ""}) {
    EXPECT_FALSE(wire::Ipv4Address::parse(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tapstack
