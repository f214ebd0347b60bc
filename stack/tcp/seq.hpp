#pragma once
// TCP sequence space (RFC 9293 3.4): a SeqNum is a point on the 2^32 circle,
// a SeqLen is a distance along it. Points only compare wrap-aware (RFC 1982
// serial-number style): a < b iff the signed 32-bit difference a - b is
// negative, which is meaningful only while the two points are less than 2^31
// apart -- TCP keeps every window well inside that. There is deliberately no
// operator< on SeqNum: it is not a total order, so it must not end up in
// std::sort or std::map by accident. No implicit conversion to integers.

#include <compare>
#include <cstdint>

namespace tapstack::tcp {

// A size in sequence space (bytes plus one for each SYN and FIN). Ordinary
// unsigned arithmetic; it is the points that wrap, not the sizes.
class SeqLen {
 public:
  constexpr SeqLen() = default;
  constexpr explicit SeqLen(std::uint32_t n) : n_(n) {}
  constexpr std::uint32_t raw() const { return n_; }

  constexpr auto operator<=>(const SeqLen&) const = default;
  // Modulo 2^32, like every sequence-space quantity.
  constexpr SeqLen operator+(SeqLen o) const { return SeqLen{n_ + o.n_}; }
  constexpr SeqLen operator-(SeqLen o) const { return SeqLen{n_ - o.n_}; }
  constexpr SeqLen& operator+=(SeqLen o) { n_ += o.n_; return *this; }
  constexpr SeqLen& operator-=(SeqLen o) { n_ -= o.n_; return *this; }

 private:
  std::uint32_t n_ = 0;
};

class SeqNum {
 public:
  constexpr SeqNum() = default;
  constexpr explicit SeqNum(std::uint32_t v) : v_(v) {}
  constexpr std::uint32_t raw() const { return v_; }

  constexpr bool operator==(const SeqNum&) const = default;

  // Moving along the circle: all arithmetic is modulo 2^32 (RFC 9293 3.4).
  constexpr SeqNum operator+(SeqLen n) const { return SeqNum{v_ + n.raw()}; }
  constexpr SeqNum operator-(SeqLen n) const { return SeqNum{v_ - n.raw()}; }
  constexpr SeqNum& operator+=(SeqLen n) { v_ += n.raw(); return *this; }
  constexpr SeqNum& operator-=(SeqLen n) { v_ -= n.raw(); return *this; }

  // a - b is the UNSIGNED forward distance from b to a, (a - b) mod 2^32:
  // always b + (a - b) == a. When a is "before" b the result is large
  // (>= 2^31); use distance() for a signed answer.
  constexpr SeqLen operator-(SeqNum b) const { return SeqLen{v_ - b.v_}; }

 private:
  std::uint32_t v_ = 0;
};

// Signed distance from b to a, in [-2^31, 2^31): positive when a is after b.
// Two's-complement conversion (well defined since C++20).
constexpr std::int32_t distance(SeqNum a, SeqNum b) {
  return static_cast<std::int32_t>(a.raw() - b.raw());
}

// Wrap-aware comparisons (RFC 9293 3.4, "compare arithmetic"; RFC 1982 3.2).
// Meaningful only when |a - b| < 2^31; at exactly 2^31 apart, both lt(a, b)
// and lt(b, a) hold -- callers never compare points that far apart.
constexpr bool lt(SeqNum a, SeqNum b) { return distance(a, b) < 0; }
constexpr bool le(SeqNum a, SeqNum b) { return distance(a, b) <= 0; }
constexpr bool gt(SeqNum a, SeqNum b) { return distance(a, b) > 0; }
constexpr bool ge(SeqNum a, SeqNum b) { return distance(a, b) >= 0; }

// The later / earlier of two points (same caveat as lt).
constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return lt(a, b) ? b : a; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return lt(a, b) ? a : b; }

// start <= x < start + len on the circle (RFC 9293 3.10.7.4: "RCV.NXT =<
// SEG.SEQ < RCV.NXT+RCV.WND"). Measured as an unsigned offset from start, so
// it is exact for any len up to 2^32 - 1, with no 2^31 caveat; an empty window
// (len 0) contains nothing, which is what the acceptability test's
// zero-window rows expect (they compare SEG.SEQ = RCV.NXT separately).
constexpr bool in_window(SeqNum x, SeqNum start, SeqLen len) { return (x - start) < len; }

// lo <= x < hi on the circle: the arc that starts at lo and ends just before
// hi (empty when lo == hi). For the ACK test of RFC 9293 3.10.7.4,
// "SND.UNA < SEG.ACK =< SND.NXT" is in_range(ack, una + SeqLen{1}, nxt + SeqLen{1}).
constexpr bool in_range(SeqNum x, SeqNum lo, SeqNum hi) { return (x - lo) < (hi - lo); }

}  // namespace tapstack::tcp
