#include "stack/tcp/seq.hpp"

#include <gtest/gtest.h>

#include <type_traits>

namespace tapstack::tcp {
namespace {

constexpr SeqNum kTop{0xffffffffu};
constexpr SeqNum kZero{0};

static_assert(!std::is_convertible_v<SeqNum, std::uint32_t>);
static_assert(!std::is_convertible_v<SeqLen, std::uint32_t>);
static_assert(!std::is_convertible_v<std::uint32_t, SeqNum>);
static_assert(!std::is_convertible_v<std::uint32_t, SeqLen>);

TEST(SeqNum, AdditionWrapsAtTwoToThe32) {
  EXPECT_EQ((kTop + SeqLen{1}).raw(), 0u);
  EXPECT_EQ((kTop + SeqLen{10}).raw(), 9u);
  EXPECT_EQ((kZero - SeqLen{1}).raw(), 0xffffffffu);
  SeqNum s{0xfffffff0u};
  s += SeqLen{0x20};
  EXPECT_EQ(s.raw(), 0x10u);
  s -= SeqLen{0x11};
  EXPECT_EQ(s.raw(), 0xffffffffu);
}

TEST(SeqNum, DifferenceIsForwardDistanceAcrossTheWrap) {
  EXPECT_EQ((SeqNum{5} - SeqNum{0xfffffffbu}).raw(), 10u);
  EXPECT_EQ(distance(SeqNum{5}, SeqNum{0xfffffffbu}), 10);
  // Backwards: the unsigned distance is large, the signed one negative.
  EXPECT_EQ((SeqNum{0xfffffffbu} - SeqNum{5}).raw(), 0xfffffff6u);
  EXPECT_EQ(distance(SeqNum{0xfffffffbu}, SeqNum{5}), -10);
  EXPECT_EQ(SeqNum{0xfffffffbu} + (SeqNum{5} - SeqNum{0xfffffffbu}), SeqNum{5});
}

TEST(SeqNum, ComparisonsAcrossTheWrap) {
  EXPECT_TRUE(lt(kTop, kZero));
  EXPECT_TRUE(le(kTop, kZero));
  EXPECT_FALSE(gt(kTop, kZero));
  EXPECT_FALSE(ge(kTop, kZero));
  EXPECT_TRUE(gt(kZero, kTop));
  EXPECT_TRUE(ge(kZero, kTop));
  EXPECT_FALSE(lt(kZero, kTop));
  // Plain integers would say the opposite.
  EXPECT_TRUE(lt(SeqNum{0xfffff000u}, SeqNum{0x1000}));
}

TEST(SeqNum, EqualPointsAreLeAndGeButNotLtOrGt) {
  const SeqNum a{0x80000000u};
  EXPECT_TRUE(le(a, a));
  EXPECT_TRUE(ge(a, a));
  EXPECT_FALSE(lt(a, a));
  EXPECT_FALSE(gt(a, a));
  EXPECT_EQ(distance(a, a), 0);
}

TEST(SeqNum, OrderingFlipsAtHalfTheSpace) {
  const SeqNum a{100};
  EXPECT_TRUE(lt(a, a + SeqLen{0x7fffffffu}));  // 2^31 - 1 ahead: still after
  EXPECT_TRUE(gt(a, a + SeqLen{0x80000001u}));  // 2^31 + 1 ahead: now before
  // Exactly 2^31 apart the order is undefined: both read as "less".
  EXPECT_TRUE(lt(a, a + SeqLen{0x80000000u}));
  EXPECT_TRUE(lt(a + SeqLen{0x80000000u}, a));
}

TEST(SeqNum, MaxAndMinAreWrapAware) {
  EXPECT_EQ(seq_max(kTop, kZero), kZero);
  EXPECT_EQ(seq_max(kZero, kTop), kZero);
  EXPECT_EQ(seq_min(kTop, kZero), kTop);
  EXPECT_EQ(seq_min(SeqNum{3}, SeqNum{7}), SeqNum{3});
}

TEST(SeqLen, IsAnOrdinarySize) {
  EXPECT_LT(SeqLen{1}, SeqLen{0xffffffffu});
  EXPECT_EQ((SeqLen{3} + SeqLen{4}).raw(), 7u);
  EXPECT_EQ((SeqLen{4} - SeqLen{3}).raw(), 1u);
  SeqLen n{10};
  n += SeqLen{5};
  n -= SeqLen{1};
  EXPECT_EQ(n, SeqLen{14});
  EXPECT_EQ(SeqLen{}.raw(), 0u);
}

TEST(InWindow, HalfOpenAcrossTheWrap) {
  const SeqNum start{0xfffffffeu};
  const SeqLen len{4};  // covers ...fe, ...ff, 0, 1
  EXPECT_FALSE(in_window(SeqNum{0xfffffffdu}, start, len));
  EXPECT_TRUE(in_window(start, start, len));
  EXPECT_TRUE(in_window(kTop, start, len));
  EXPECT_TRUE(in_window(kZero, start, len));
  EXPECT_TRUE(in_window(SeqNum{1}, start, len));
  EXPECT_FALSE(in_window(SeqNum{2}, start, len));
}

TEST(InWindow, EmptyWindowContainsNothing) {
  EXPECT_FALSE(in_window(SeqNum{7}, SeqNum{7}, SeqLen{0}));
  EXPECT_FALSE(in_window(SeqNum{8}, SeqNum{7}, SeqLen{0}));
}

TEST(InWindow, LargestWindowContainsAllButOnePoint) {
  const SeqNum start{1000};
  EXPECT_TRUE(in_window(start + SeqLen{0xfffffffeu}, start, SeqLen{0xffffffffu}));
  EXPECT_FALSE(in_window(start - SeqLen{1}, start, SeqLen{0xffffffffu}));
}

TEST(InRange, HalfOpenAcrossTheWrap) {
  const SeqNum lo{0xfffffff0u};
  const SeqNum hi{0x10};
  EXPECT_TRUE(in_range(lo, lo, hi));
  EXPECT_TRUE(in_range(kTop, lo, hi));
  EXPECT_TRUE(in_range(SeqNum{0xf}, lo, hi));
  EXPECT_FALSE(in_range(hi, lo, hi));
  EXPECT_FALSE(in_range(SeqNum{0xffffffefu}, lo, hi));
  EXPECT_FALSE(in_range(SeqNum{0x80000000u}, lo, hi));
  EXPECT_FALSE(in_range(lo, lo, lo));
}

// RFC 9293 3.10.7.4: SND.UNA < SEG.ACK =< SND.NXT, written with in_range.
TEST(InRange, AckAcceptabilityAtTheWrap) {
  const SeqNum una{0xfffffffcu};
  const SeqNum nxt{4};
  auto acceptable = [&](SeqNum ack) { return in_range(ack, una + SeqLen{1}, nxt + SeqLen{1}); };
  EXPECT_FALSE(acceptable(una));
  EXPECT_TRUE(acceptable(una + SeqLen{1}));
  EXPECT_TRUE(acceptable(kZero));
  EXPECT_TRUE(acceptable(nxt));
  EXPECT_FALSE(acceptable(nxt + SeqLen{1}));
}

// RFC 9293 3.10.7.4, the segment acceptability test with RCV.WND > 0 and
// SEG.LEN > 0, near the wrap: either end of the segment in the window.
TEST(InWindow, SegmentAcceptabilityAtTheWrap) {
  const SeqNum rcv_nxt{0xfffffff0u};
  const SeqLen rcv_wnd{0x20};
  auto acceptable = [&](SeqNum seq, SeqLen len) {
    return in_window(seq, rcv_nxt, rcv_wnd) || in_window(seq + len - SeqLen{1}, rcv_nxt, rcv_wnd);
  };
  EXPECT_TRUE(acceptable(SeqNum{0xffffffe0u}, SeqLen{0x11}));  // last byte is RCV.NXT
  EXPECT_FALSE(acceptable(SeqNum{0xffffffe0u}, SeqLen{0x10}));  // ends just before
  EXPECT_TRUE(acceptable(SeqNum{0xf}, SeqLen{100}));            // starts at the last window byte
  EXPECT_FALSE(acceptable(SeqNum{0x10}, SeqLen{100}));          // starts just past the window
}

TEST(SeqNum, UsableInConstantExpressions) {
  static_assert((SeqNum{0xffffffffu} + SeqLen{2}).raw() == 1u);
  static_assert(lt(SeqNum{0xffffffffu}, SeqNum{1}));
  static_assert(in_window(SeqNum{0}, SeqNum{0xffffffffu}, SeqLen{2}));
  SUCCEED();
}

}  // namespace
}  // namespace tapstack::tcp
