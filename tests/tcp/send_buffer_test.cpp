#include "stack/tcp/send_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tests/support/allocation_counter.hpp"

namespace tapstack::tcp {
namespace {

// Bytes start, start+1, ... (mod 256): every position distinct enough to catch misplaced copies.
ByteVector pattern(std::size_t n, unsigned start = 0) {
  ByteVector v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = static_cast<std::byte>((start + i) & 0xff);
  }
  return v;
}

ByteVector copy_out(const SendBuffer& b, std::size_t offset, std::size_t len) {
  ByteVector out(len, std::byte{0xa5});
  b.copy_out(offset, out);
  return out;
}

ByteVector join(const SendBuffer::Slices& s) {
  ByteVector v(s.first.begin(), s.first.end());
  v.insert(v.end(), s.second.begin(), s.second.end());
  return v;
}

ByteVector sub(const ByteVector& v, std::size_t at, std::size_t len) {
  return ByteVector(v.begin() + static_cast<std::ptrdiff_t>(at), v.begin() + static_cast<std::ptrdiff_t>(at + len));
}

TEST(SendBuffer, StartsEmpty) {
  SendBuffer b(8);
  EXPECT_EQ(b.capacity(), 8u);
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.free(), 8u);
  EXPECT_TRUE(b.empty());
  const SendBuffer::Slices s = b.slices(0, 0);
  EXPECT_TRUE(s.first.empty());
  EXPECT_TRUE(s.second.empty());
}

TEST(SendBuffer, WriteThenCopyOutAnyRange) {
  SendBuffer b(16);
  const ByteVector data = pattern(10);
  EXPECT_EQ(b.write(data), 10u);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.free(), 6u);
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(copy_out(b, 0, 10), data);
  EXPECT_EQ(copy_out(b, 3, 4), sub(data, 3, 4));
  EXPECT_EQ(copy_out(b, 10, 0), ByteVector{});
}

TEST(SendBuffer, PartialWriteWhenNearlyFull) {
  SendBuffer b(8);
  EXPECT_EQ(b.write(pattern(5)), 5u);
  const ByteVector more = pattern(6, 100);
  EXPECT_EQ(b.write(more), 3u);  // only what fits
  EXPECT_EQ(b.size(), 8u);
  EXPECT_EQ(b.free(), 0u);
  EXPECT_EQ(copy_out(b, 5, 3), sub(more, 0, 3));
}

TEST(SendBuffer, FullBufferAcceptsNothing) {
  SendBuffer b(4);
  EXPECT_EQ(b.write(pattern(4)), 4u);
  EXPECT_EQ(b.write(pattern(1)), 0u);
  EXPECT_EQ(b.write(Bytes{}), 0u);
  EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(copy_out(b, 0, 4), pattern(4));
}

TEST(SendBuffer, ConsumeDropsTheOldestBytes) {
  SendBuffer b(8);
  b.write(pattern(6));
  b.consume(2);
  EXPECT_EQ(b.size(), 4u);
  EXPECT_EQ(b.free(), 4u);
  EXPECT_EQ(copy_out(b, 0, 4), pattern(4, 2));
  b.consume(0);
  EXPECT_EQ(b.size(), 4u);
}

TEST(SendBuffer, ConsumeMoreThanSizeEmptiesIt) {
  SendBuffer b(8);
  b.write(pattern(3));
  b.consume(100);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.free(), 8u);
  b.consume(1);  // on an empty buffer: nothing
  EXPECT_TRUE(b.empty());
  // And it is usable again, at full capacity.
  EXPECT_EQ(b.write(pattern(8, 9)), 8u);
  EXPECT_EQ(copy_out(b, 0, 8), pattern(8, 9));
}

TEST(SendBuffer, WrapsAround) {
  SendBuffer b(8);
  EXPECT_EQ(b.write(pattern(6)), 6u);
  b.consume(5);  // one byte left, at index 5
  const ByteVector more = pattern(7, 50);
  EXPECT_EQ(b.write(more), 7u);  // indices 6, 7 then 0..4
  EXPECT_EQ(b.size(), 8u);
  ByteVector expected = pattern(1, 5);
  expected.insert(expected.end(), more.begin(), more.end());
  EXPECT_EQ(copy_out(b, 0, 8), expected);
  EXPECT_EQ(copy_out(b, 2, 5), sub(expected, 2, 5));  // across the wrap
  EXPECT_EQ(copy_out(b, 4, 4), sub(expected, 4, 4));  // entirely after the wrap
}

TEST(SendBuffer, SlicesSplitAcrossTheWrap) {
  SendBuffer b(8);
  b.write(pattern(3));
  b.consume(1);  // oldest byte at index 1
  EXPECT_EQ(b.write(pattern(6, 40)), 6u);  // occupies indices 1..7, then 0
  ByteVector expected = pattern(2, 1);
  const ByteVector tail = pattern(6, 40);
  expected.insert(expected.end(), tail.begin(), tail.end());
  ASSERT_EQ(b.size(), 8u);

  const SendBuffer::Slices whole = b.slices(0, 8);
  EXPECT_EQ(whole.first.size(), 7u);
  EXPECT_EQ(whole.second.size(), 1u);
  EXPECT_EQ(join(whole), expected);

  const SendBuffer::Slices before = b.slices(1, 3);  // does not reach the wrap
  EXPECT_EQ(before.first.size(), 3u);
  EXPECT_TRUE(before.second.empty());
  EXPECT_EQ(join(before), sub(expected, 1, 3));

  const SendBuffer::Slices after = b.slices(7, 1);  // starts after the wrap
  EXPECT_EQ(after.first.size(), 1u);
  EXPECT_TRUE(after.second.empty());
  EXPECT_EQ(join(after), sub(expected, 7, 1));

  const SendBuffer::Slices ending_at_wrap = b.slices(2, 5);
  EXPECT_EQ(ending_at_wrap.first.size(), 5u);
  EXPECT_TRUE(ending_at_wrap.second.empty());
}

TEST(SendBuffer, EmptiedBufferRestartsAtTheFront) {
  SendBuffer b(8);
  b.write(pattern(5));
  b.consume(5);
  b.write(pattern(8));
  const SendBuffer::Slices s = b.slices(0, 8);
  EXPECT_EQ(s.first.size(), 8u);  // one piece, no wrap
  EXPECT_TRUE(s.second.empty());
}

TEST(SendBuffer, CapacityOne) {
  SendBuffer b(1);
  for (unsigned i = 0; i < 5; ++i) {
    EXPECT_EQ(b.write(pattern(3, i)), 1u);
    EXPECT_EQ(copy_out(b, 0, 1), pattern(1, i));
    b.consume(1);
  }
}

TEST(SendBuffer, NoAllocationAfterConstruction) {
  SendBuffer b(64);
  const ByteVector data = pattern(40);
  ByteVector out(40);
  const std::uint64_t n = test_support::allocations_during([&] {
    for (int round = 0; round < 100; ++round) {
      b.write(data);
      b.copy_out(0, MutableBytes{out}.first(b.size() < 40 ? b.size() : 40));
      (void)b.slices(1, 20);
      b.consume(37);
    }
  });
  EXPECT_EQ(n, 0u);
}

}  // namespace
}  // namespace tapstack::tcp
