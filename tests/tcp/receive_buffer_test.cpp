#include "stack/tcp/receive_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "tests/support/allocation_counter.hpp"

namespace tapstack::tcp {
namespace {

// The byte at stream position i (distinct over any 256 consecutive positions).
std::byte at(std::size_t i) { return static_cast<std::byte>((i * 7 + 3) & 0xff); }

// Stream bytes [from, to).
ByteVector stream(std::size_t from, std::size_t to) {
  ByteVector v;
  for (std::size_t i = from; i < to; ++i) {
    v.push_back(at(i));
  }
  return v;
}

ByteVector filled(std::size_t n, std::uint8_t value) { return ByteVector(n, std::byte{value}); }

ByteVector read_all(ReceiveBuffer& b) {
  ByteVector out(b.readable() + 3, std::byte{0xa5});
  const std::size_t n = b.read(out);
  out.resize(n);
  return out;
}

using RangeList = std::vector<std::pair<std::size_t, std::size_t>>;

RangeList ranges(const ReceiveBuffer& b) {
  RangeList v;
  for (const ReceiveBuffer::Range& r : b.out_of_order()) {
    v.emplace_back(r.begin, r.end);
  }
  return v;
}

TEST(ReceiveBuffer, StartsEmpty) {
  ReceiveBuffer b(16, 4);
  EXPECT_EQ(b.capacity(), 16u);
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.free(), 16u);
  EXPECT_EQ(b.out_of_order_ranges(), 0u);
  EXPECT_EQ(b.out_of_order_bytes(), 0u);
  EXPECT_EQ(b.out_of_order_end(), 0u);
  ByteVector out(4);
  EXPECT_EQ(b.read(out), 0u);
}

TEST(ReceiveBuffer, InOrderInsertAdvancesAndReads) {
  ReceiveBuffer b(16, 4);
  EXPECT_EQ(b.insert(0, stream(0, 5)), 5u);
  EXPECT_EQ(b.readable(), 5u);
  EXPECT_EQ(b.free(), 11u);
  EXPECT_EQ(b.insert(0, stream(5, 9)), 4u);
  EXPECT_EQ(read_all(b), stream(0, 9));
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.free(), 16u);
  EXPECT_EQ(b.counters().out_of_order_segments, 0u);
}

TEST(ReceiveBuffer, PartialReadsInOrder) {
  ReceiveBuffer b(16, 4);
  b.insert(0, stream(0, 10));
  ByteVector out(4);
  EXPECT_EQ(b.read(out), 4u);
  EXPECT_EQ(out, stream(0, 4));
  EXPECT_EQ(b.readable(), 6u);
  EXPECT_EQ(b.free(), 10u);
  EXPECT_EQ(read_all(b), stream(4, 10));
  ByteVector none;
  EXPECT_EQ(b.read(none), 0u);
}

TEST(ReceiveBuffer, WrapsAround) {
  ReceiveBuffer b(8, 4);
  b.insert(0, stream(0, 6));
  ByteVector out(5);
  b.read(out);  // one byte left, at index 5
  EXPECT_EQ(b.insert(0, stream(6, 13)), 7u);  // indices 6, 7, then 0..4
  EXPECT_EQ(b.readable(), 8u);
  EXPECT_EQ(b.free(), 0u);
  ByteVector first(3);
  EXPECT_EQ(b.read(first), 3u);  // across the wrap
  EXPECT_EQ(first, stream(5, 8));
  EXPECT_EQ(read_all(b), stream(8, 13));
}

TEST(ReceiveBuffer, FullBufferCutsEverything) {
  ReceiveBuffer b(8, 4);
  EXPECT_EQ(b.insert(0, stream(0, 8)), 8u);
  EXPECT_EQ(b.insert(0, stream(8, 11)), 0u);
  EXPECT_EQ(b.insert(2, stream(10, 11)), 0u);
  EXPECT_EQ(b.counters().beyond_space_bytes, 4u);
  EXPECT_EQ(b.out_of_order_ranges(), 0u);
  EXPECT_EQ(read_all(b), stream(0, 8));
}

TEST(ReceiveBuffer, CutAtFreeSpace) {
  ReceiveBuffer b(10, 4);
  b.insert(0, stream(0, 4));  // free 6
  EXPECT_EQ(b.insert(0, stream(4, 12)), 6u);  // 2 bytes beyond
  EXPECT_EQ(b.counters().beyond_space_bytes, 2u);
  EXPECT_EQ(read_all(b), stream(0, 10));

  // Out of order: an island running past the end, and one starting at it.
  EXPECT_EQ(b.insert(7, stream(17, 22)), 0u);  // offsets 7..11: 3 kept, 2 cut
  EXPECT_EQ(b.counters().beyond_space_bytes, 4u);
  EXPECT_EQ(ranges(b), (RangeList{{7, 10}}));
  EXPECT_EQ(b.insert(10, stream(20, 21)), 0u);
  EXPECT_EQ(b.counters().beyond_space_bytes, 5u);
  EXPECT_EQ(b.insert(100, stream(110, 111)), 0u);
  EXPECT_EQ(b.counters().beyond_space_bytes, 6u);
  EXPECT_EQ(ranges(b), (RangeList{{7, 10}}));
  EXPECT_EQ(b.out_of_order_end(), 10u);

  EXPECT_EQ(b.insert(0, stream(10, 17)), 10u);
  EXPECT_EQ(read_all(b), stream(10, 20));
}

TEST(ReceiveBuffer, OutOfOrderIslandWaitsForTheGap) {
  ReceiveBuffer b(32, 4);
  EXPECT_EQ(b.insert(3, stream(3, 6)), 0u);
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(b.free(), 32u);  // the window is not reduced by held data
  EXPECT_EQ(ranges(b), (RangeList{{3, 6}}));
  EXPECT_EQ(b.out_of_order_bytes(), 3u);
  EXPECT_EQ(b.out_of_order_end(), 6u);
  EXPECT_EQ(b.counters().out_of_order_segments, 1u);

  EXPECT_EQ(b.insert(0, stream(0, 2)), 2u);  // partly fills the gap
  EXPECT_EQ(ranges(b), (RangeList{{1, 4}}));  // still relative to the in-order end
  EXPECT_EQ(b.insert(0, stream(2, 3)), 4u);   // fills it: advances over the island too
  EXPECT_EQ(b.out_of_order_ranges(), 0u);
  EXPECT_EQ(read_all(b), stream(0, 6));
}

TEST(ReceiveBuffer, RangesBeforeAfterOverlappingAdjacent) {
  ReceiveBuffer b(64, 8);
  b.insert(10, stream(10, 12));
  b.insert(4, stream(4, 6));  // before
  EXPECT_EQ(ranges(b), (RangeList{{4, 6}, {10, 12}}));
  b.insert(20, stream(20, 22));  // after
  EXPECT_EQ(ranges(b), (RangeList{{4, 6}, {10, 12}, {20, 22}}));
  b.insert(6, stream(6, 8));  // adjacent after [4,6)
  EXPECT_EQ(ranges(b), (RangeList{{4, 8}, {10, 12}, {20, 22}}));
  b.insert(18, stream(18, 20));  // adjacent before [20,22)
  EXPECT_EQ(ranges(b), (RangeList{{4, 8}, {10, 12}, {18, 22}}));
  b.insert(7, stream(7, 11));  // overlaps two ranges: joins them
  EXPECT_EQ(ranges(b), (RangeList{{4, 12}, {18, 22}}));
  b.insert(8, stream(8, 9));  // inside a range: nothing changes
  EXPECT_EQ(ranges(b), (RangeList{{4, 12}, {18, 22}}));
  b.insert(16, stream(16, 24));  // covers a range and more on both sides
  EXPECT_EQ(ranges(b), (RangeList{{4, 12}, {16, 24}}));
  b.insert(12, stream(12, 16));  // exactly the gap between two ranges
  EXPECT_EQ(ranges(b), (RangeList{{4, 24}}));
  EXPECT_EQ(b.out_of_order_bytes(), 20u);
  EXPECT_EQ(b.counters().out_of_order_segments, 9u);
  EXPECT_EQ(b.counters().out_of_order_dropped, 0u);

  EXPECT_EQ(b.insert(0, stream(0, 4)), 24u);
  EXPECT_EQ(read_all(b), stream(0, 24));
}

TEST(ReceiveBuffer, FillingAGapMergesSeveralRanges) {
  ReceiveBuffer b(64, 8);
  b.insert(2, stream(2, 4));
  b.insert(5, stream(5, 7));
  b.insert(8, stream(8, 10));
  b.insert(15, stream(15, 17));
  EXPECT_EQ(b.out_of_order_ranges(), 4u);
  // Covers the first two gaps and ends inside the third range.
  EXPECT_EQ(b.insert(0, stream(0, 9)), 10u);
  EXPECT_EQ(ranges(b), (RangeList{{5, 7}}));  // [15,17) shifted by 10
  EXPECT_EQ(b.readable(), 10u);
  EXPECT_EQ(b.insert(0, stream(10, 15)), 7u);
  EXPECT_EQ(read_all(b), stream(0, 17));
}

TEST(ReceiveBuffer, InOrderDataEndingExactlyAtARangeAbsorbsIt) {
  ReceiveBuffer b(64, 8);
  b.insert(4, stream(4, 9));
  EXPECT_EQ(b.insert(0, stream(0, 4)), 9u);  // adjacent: touching counts
  EXPECT_EQ(b.out_of_order_ranges(), 0u);
  EXPECT_EQ(read_all(b), stream(0, 9));
}

TEST(ReceiveBuffer, RangesMaxBoundsTheBookkeeping) {
  ReceiveBuffer b(64, 2);
  b.insert(2, stream(2, 3));
  b.insert(5, stream(5, 6));
  EXPECT_EQ(b.out_of_order_ranges(), 2u);
  // A third island needs a new range: dropped, and its bytes are not taken.
  EXPECT_EQ(b.insert(8, filled(2, 0xee)), 0u);
  EXPECT_EQ(b.counters().out_of_order_dropped, 1u);
  EXPECT_EQ(ranges(b), (RangeList{{2, 3}, {5, 6}}));
  EXPECT_EQ(b.insert(30, stream(30, 40)), 0u);
  EXPECT_EQ(b.counters().out_of_order_dropped, 2u);
  EXPECT_EQ(b.counters().out_of_order_segments, 4u);  // dropped ones arrived out of order too
  // Growing or joining existing ranges is always allowed.
  EXPECT_EQ(b.insert(6, stream(6, 8)), 0u);  // adjacent
  EXPECT_EQ(b.insert(1, stream(1, 3)), 0u);  // overlapping
  EXPECT_EQ(ranges(b), (RangeList{{1, 3}, {5, 8}}));
  EXPECT_EQ(b.insert(3, stream(3, 5)), 0u);  // joins both: frees a range
  EXPECT_EQ(ranges(b), (RangeList{{1, 8}}));
  EXPECT_EQ(b.insert(9, stream(9, 11)), 0u);  // so a new island fits again
  EXPECT_EQ(ranges(b), (RangeList{{1, 8}, {9, 11}}));
  EXPECT_EQ(b.counters().out_of_order_dropped, 2u);
  // In-order data never needs a range.
  EXPECT_EQ(b.insert(0, stream(0, 1)), 8u);
  EXPECT_EQ(b.insert(0, stream(8, 9)), 3u);
  EXPECT_EQ(read_all(b), stream(0, 11));  // the dropped 0xee bytes were not kept
}

TEST(ReceiveBuffer, FirstCopyWins) {
  ReceiveBuffer b(64, 4);
  EXPECT_EQ(b.insert(2, filled(4, 0x11)), 0u);   // [2,6)
  EXPECT_EQ(b.insert(4, filled(6, 0x22)), 0u);   // [4,10): only [6,10) is new
  EXPECT_EQ(b.insert(12, filled(2, 0x33)), 0u);  // [12,14)
  EXPECT_EQ(ranges(b), (RangeList{{2, 10}, {12, 14}}));
  EXPECT_EQ(b.insert(0, filled(16, 0x44)), 16u);  // fills the gaps only
  ByteVector expected = filled(2, 0x44);
  for (const auto& [n, v] : std::vector<std::pair<std::size_t, std::uint8_t>>{
           {4, 0x11}, {4, 0x22}, {2, 0x44}, {2, 0x33}, {2, 0x44}}) {
    const ByteVector part = filled(n, v);
    expected.insert(expected.end(), part.begin(), part.end());
  }
  EXPECT_EQ(read_all(b), expected);
}

TEST(ReceiveBuffer, ReadWithOutOfOrderDataHeld) {
  ReceiveBuffer b(10, 4);
  EXPECT_EQ(b.insert(0, stream(0, 6)), 6u);
  EXPECT_EQ(b.insert(2, stream(8, 10)), 0u);  // offsets 2..4 of a free() of 4
  EXPECT_EQ(b.free(), 4u);
  ByteVector out(5);
  EXPECT_EQ(b.read(out), 5u);  // frees space, ranges untouched
  EXPECT_EQ(out, stream(0, 5));
  EXPECT_EQ(b.free(), 9u);
  EXPECT_EQ(ranges(b), (RangeList{{2, 4}}));
  // The window grew: data beyond the old free() is taken now, and the ring wraps under it.
  EXPECT_EQ(b.insert(5, stream(11, 15)), 0u);
  EXPECT_EQ(ranges(b), (RangeList{{2, 4}, {5, 9}}));
  EXPECT_EQ(b.insert(0, stream(6, 8)), 4u);
  EXPECT_EQ(b.insert(0, stream(10, 11)), 5u);
  EXPECT_EQ(read_all(b), stream(5, 15));
  EXPECT_EQ(b.counters().beyond_space_bytes, 0u);
}

TEST(ReceiveBuffer, OutOfOrderDataAcrossTheWrap) {
  ReceiveBuffer b(8, 4);
  b.insert(0, stream(0, 5));
  ByteVector out(4);
  b.read(out);  // head at index 4, one readable byte; the in-order end is at index 5
  EXPECT_EQ(b.insert(2, stream(7, 11)), 0u);  // indices 7, 0, 1, 2
  EXPECT_EQ(b.free(), 7u);
  EXPECT_EQ(b.insert(0, stream(5, 7)), 6u);  // indices 5, 6
  EXPECT_EQ(b.free(), 1u);
  EXPECT_EQ(read_all(b), stream(4, 11));
}

TEST(ReceiveBuffer, ZeroLengthInsertsChangeNothing) {
  ReceiveBuffer b(8, 1);
  b.insert(3, stream(3, 4));
  EXPECT_EQ(b.insert(0, Bytes{}), 0u);
  EXPECT_EQ(b.insert(1, Bytes{}), 0u);  // would need a new range, but holds nothing
  EXPECT_EQ(b.insert(3, Bytes{}), 0u);
  EXPECT_EQ(b.insert(8, Bytes{}), 0u);   // at free()
  EXPECT_EQ(b.insert(50, Bytes{}), 0u);  // beyond it
  EXPECT_EQ(b.readable(), 0u);
  EXPECT_EQ(ranges(b), (RangeList{{3, 4}}));
  EXPECT_EQ(b.counters().out_of_order_segments, 1u);
  EXPECT_EQ(b.counters().out_of_order_dropped, 0u);
  EXPECT_EQ(b.counters().beyond_space_bytes, 0u);
}

TEST(ReceiveBuffer, ClearOutOfOrderForgetsTheRanges) {
  ReceiveBuffer b(16, 4);
  b.insert(0, stream(0, 2));
  b.insert(4, filled(2, 0x77));
  b.clear_out_of_order();
  EXPECT_EQ(b.out_of_order_ranges(), 0u);
  EXPECT_EQ(b.out_of_order_end(), 0u);
  EXPECT_EQ(b.insert(0, stream(2, 10)), 8u);  // the old island's bytes are overwritten
  EXPECT_EQ(read_all(b), stream(0, 10));
}

TEST(ReceiveBuffer, CapacityOne) {
  ReceiveBuffer b(1, 1);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(b.insert(1, stream(i + 1, i + 2)), 0u);  // at free(): cut
    EXPECT_EQ(b.insert(0, stream(i, i + 2)), 1u);
    EXPECT_EQ(read_all(b), stream(i, i + 1));
  }
  EXPECT_EQ(b.counters().beyond_space_bytes, 8u);
}

TEST(ReceiveBuffer, NoAllocationAfterConstruction) {
  ReceiveBuffer b(256, 4);
  const ByteVector data = stream(0, 300);
  ByteVector out(100);
  const Bytes all{data};
  const std::uint64_t n = test_support::allocations_during([&] {
    for (int round = 0; round < 50; ++round) {
      // Islands up to the bound and one beyond it, merges, a gap fill, a cut, reads.
      b.insert(20, all.subspan(0, 10));
      b.insert(40, all.subspan(0, 10));
      b.insert(60, all.subspan(0, 10));
      b.insert(80, all.subspan(0, 10));
      b.insert(100, all.subspan(0, 10));
      b.insert(25, all.subspan(0, 20));
      b.insert(0, all.subspan(0, 30));
      b.insert(0, all.subspan(0, 300));
      b.read(out);
      b.read(out);
      b.read(out);
      (void)b.out_of_order_bytes();
      b.clear_out_of_order();
    }
  });
  EXPECT_EQ(n, 0u);
  EXPECT_GT(b.counters().out_of_order_dropped, 0u);
  EXPECT_GT(b.counters().beyond_space_bytes, 0u);
}

}  // namespace
}  // namespace tapstack::tcp
