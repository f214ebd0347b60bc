// Sequence-space properties: arithmetic and comparisons modulo 2^32 agree
// with a 64-bit reference model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>

#include "stack/tcp/seq.hpp"

namespace tapstack::tcp {
namespace {

constexpr std::uint64_t kSpace = std::uint64_t{1} << 32;

}  // namespace

RC_GTEST_PROP(SeqProp, AddThenSubtractGivesTheLength, (std::uint32_t a_raw)) {
  const auto n_raw = *rc::gen::inRange<std::uint32_t>(0, 0x80000000u);
  const SeqNum a{a_raw};
  const SeqLen n{n_raw};
  RC_ASSERT((a + n) - a == n);
  RC_ASSERT(distance(a + n, a) == static_cast<std::int32_t>(n_raw));
  RC_ASSERT((a + n) - n == a);
  RC_ASSERT(le(a, a + n));
  RC_ASSERT(ge(a + n, a));
}

RC_GTEST_PROP(SeqProp, OrderingIsAntisymmetricWithinHalfTheSpace, (std::uint32_t a_raw)) {
  const auto d = *rc::gen::inRange<std::uint32_t>(1, 0x80000000u);  // 1 .. 2^31 - 1
  const SeqNum a{a_raw};
  const SeqNum b = a + SeqLen{d};
  RC_ASSERT(lt(a, b));
  RC_ASSERT(!lt(b, a));
  RC_ASSERT(gt(b, a));
  RC_ASSERT(!gt(a, b));
  RC_ASSERT(le(a, b) && !le(b, a));
  RC_ASSERT(ge(b, a) && !ge(a, b));
  RC_ASSERT(seq_max(a, b) == b && seq_max(b, a) == b);
  RC_ASSERT(seq_min(a, b) == a && seq_min(b, a) == a);
}

RC_GTEST_PROP(SeqProp, ExactlyOneOfLtEqGtWithinHalfTheSpace, (std::uint32_t a_raw, std::uint32_t b_raw)) {
  RC_PRE(b_raw - a_raw != 0x80000000u);
  const SeqNum a{a_raw};
  const SeqNum b{b_raw};
  const int count = int{lt(a, b)} + int{a == b} + int{gt(a, b)};
  RC_ASSERT(count == 1);
  RC_ASSERT(lt(a, b) == gt(b, a));
}

// Reference: unwrap x to the first 64-bit value >= start that is congruent to
// it mod 2^32, then compare plainly.
RC_GTEST_PROP(SeqProp, InWindowAgreesWith64BitReference,
              (std::uint32_t x_raw, std::uint32_t start_raw, std::uint32_t len_raw)) {
  const std::uint64_t start = start_raw;
  const std::uint64_t x = x_raw >= start_raw ? std::uint64_t{x_raw} : std::uint64_t{x_raw} + kSpace;
  const bool expected = start <= x && x < start + len_raw;
  RC_ASSERT(in_window(SeqNum{x_raw}, SeqNum{start_raw}, SeqLen{len_raw}) == expected);
}

// Also with x drawn near the window, where the interesting cases are.
// (len stays a little below 2^32 so offsets just outside cannot wrap inside.)
RC_GTEST_PROP(SeqProp, InWindowAgreesNearTheEdges, (std::uint32_t start_raw)) {
  const auto len_raw = *rc::gen::inRange<std::uint32_t>(0, 0xfffffff0u);
  // Within 3 of either edge (where off-by-one bugs live), or anywhere between.
  const std::int64_t near = *rc::gen::inRange<std::int64_t>(-3, 4);
  const std::int64_t offset = *rc::gen::element(0, 1, 2) == 0   ? near
                              : *rc::gen::element(0, 1) == 0    ? std::int64_t{len_raw} + near
                                                                : *rc::gen::inRange<std::int64_t>(0, std::int64_t{len_raw} + 1);
  const std::uint32_t x_raw = static_cast<std::uint32_t>(std::uint64_t{start_raw} + static_cast<std::uint64_t>(offset));
  const bool expected = offset >= 0 && offset < std::int64_t{len_raw};
  RC_ASSERT(in_window(SeqNum{x_raw}, SeqNum{start_raw}, SeqLen{len_raw}) == expected);
}

RC_GTEST_PROP(SeqProp, InRangeIsInWindowOfTheArc, (std::uint32_t x_raw, std::uint32_t lo_raw, std::uint32_t hi_raw)) {
  const SeqNum lo{lo_raw};
  const SeqNum hi{hi_raw};
  RC_ASSERT(in_range(SeqNum{x_raw}, lo, hi) == in_window(SeqNum{x_raw}, lo, hi - lo));
}

}  // namespace tapstack::tcp
