// TCP buffers under random traffic.
//
// ReceiveBuffer: a byte stream is cut into random segments (overlapping,
// duplicated, some corrupted in transit when enabled) that arrive shuffled,
// with random reads in between; a simulated sender retransmits every segment
// not yet wholly acknowledged until the stream is delivered. A byte-by-byte
// reference model (one slot per stream position) predicts every return value,
// counter and out-of-order range; the reader must get the model's bytes in
// order, which are the original ones when nothing was corrupted.
//
// SendBuffer: random write/consume/copy_out/slices against a std::deque model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <vector>

#include "stack/base/rng.hpp"
#include "stack/tcp/receive_buffer.hpp"
#include "stack/tcp/send_buffer.hpp"

namespace tapstack::tcp {
namespace {

struct Segment {
  std::size_t begin = 0;  // stream positions [begin, end)
  std::size_t end = 0;
};

// The receiver as one slot per stream position: in-order up to rcv_nxt, held (out of order) where a
// slot beyond it is set. It applies the header's rules directly: cut at free space, a new island
// needs a free range, the first copy of a byte wins, RCV.NXT advances over every contiguous byte.
class Model {
 public:
  Model(std::size_t stream_len, std::size_t capacity, std::size_t ranges_max)
      : slots_(stream_len, -1), capacity_(capacity), ranges_max_(ranges_max) {}

  std::size_t free() const { return capacity_ - (rcv_nxt_ - read_pos_); }

  std::size_t insert(std::size_t pos, Bytes data) {
    const std::size_t offset = pos - rcv_nxt_;
    if (offset >= free()) {
      counters_.beyond_space_bytes += data.size();
      return 0;
    }
    const std::size_t len = std::min(data.size(), free() - offset);
    counters_.beyond_space_bytes += data.size() - len;
    if (len == 0) {
      return 0;
    }
    if (offset > 0) {
      ++counters_.out_of_order_segments;
      bool touches = false;
      for (std::size_t p = pos - 1; p <= pos + len && p < slots_.size(); ++p) {
        touches = touches || slots_[p] >= 0;
      }
      if (!touches && ranges().size() >= ranges_max_) {
        ++counters_.out_of_order_dropped;
        return 0;
      }
    }
    for (std::size_t i = 0; i < len; ++i) {
      if (slots_[pos + i] < 0) {
        slots_[pos + i] = static_cast<int>(data[i]);
      }
    }
    const std::size_t before = rcv_nxt_;
    while (offset == 0 && rcv_nxt_ < slots_.size() && slots_[rcv_nxt_] >= 0) {
      ++rcv_nxt_;
    }
    return rcv_nxt_ - before;
  }

  // Runs of held slots beyond rcv_nxt, as offsets from it.
  std::vector<ReceiveBuffer::Range> ranges() const {
    std::vector<ReceiveBuffer::Range> out;
    for (std::size_t p = rcv_nxt_; p < slots_.size(); ++p) {
      if (slots_[p] < 0) {
        continue;
      }
      if (!out.empty() && out.back().end == p - rcv_nxt_) {
        ++out.back().end;
      } else {
        out.push_back({p - rcv_nxt_, p - rcv_nxt_ + 1});
      }
    }
    return out;
  }

  std::byte take() { return static_cast<std::byte>(slots_[read_pos_++]); }

  std::size_t rcv_nxt() const { return rcv_nxt_; }
  std::size_t read_pos() const { return read_pos_; }
  const ReceiveBufferCounters& counters() const { return counters_; }

 private:
  std::vector<int> slots_;  // -1: not received (or dropped)
  std::size_t capacity_;
  std::size_t ranges_max_;
  std::size_t rcv_nxt_ = 0;
  std::size_t read_pos_ = 0;
  ReceiveBufferCounters counters_;
};

void check_invariants(const ReceiveBuffer& b, const Model& model, std::size_t ranges_max) {
  RC_ASSERT(b.readable() + b.out_of_order_end() <= b.capacity());
  RC_ASSERT(b.readable() == model.rcv_nxt() - model.read_pos());
  RC_ASSERT(b.free() == model.free());
  RC_ASSERT(b.out_of_order_ranges() <= ranges_max);
  const auto ranges = b.out_of_order();
  RC_ASSERT(ranges.size() == b.out_of_order_ranges());
  std::size_t bytes = 0;
  std::size_t previous_end = 0;
  for (const ReceiveBuffer::Range& r : ranges) {
    RC_ASSERT(r.begin > previous_end);  // sorted, disjoint, not touching (nor the in-order end)
    RC_ASSERT(r.end > r.begin);
    bytes += r.end - r.begin;
    previous_end = r.end;
  }
  RC_ASSERT(b.out_of_order_bytes() == bytes);
  RC_ASSERT(b.out_of_order_end() == previous_end);
  const std::vector<ReceiveBuffer::Range> expected = model.ranges();
  RC_ASSERT(expected.size() == ranges.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(ranges[i].begin == expected[i].begin);
    RC_ASSERT(ranges[i].end == expected[i].end);
  }
  RC_ASSERT(b.counters().out_of_order_segments == model.counters().out_of_order_segments);
  RC_ASSERT(b.counters().out_of_order_dropped == model.counters().out_of_order_dropped);
  RC_ASSERT(b.counters().beyond_space_bytes == model.counters().beyond_space_bytes);
}

// Reads up to `max` bytes and checks them against the model (and the original stream).
void read_some(ReceiveBuffer& b, Model& model, const ByteVector& original, bool corrupted, std::size_t max,
               ByteVector& scratch) {
  scratch.assign(max, std::byte{0xa5});
  const std::size_t expected_n = std::min(max, b.readable());
  const std::size_t n = b.read(scratch);
  RC_ASSERT(n == expected_n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t pos = model.read_pos();
    const std::byte want = model.take();
    RC_ASSERT(scratch[i] == want);
    if (!corrupted) {
      RC_ASSERT(scratch[i] == original[pos]);
    }
  }
}

RC_GTEST_PROP(ReceiveBufferProp, DeliversTheStreamInOrderFromShuffledOverlappingSegments, ()) {
  const auto capacity = *rc::gen::oneOf(rc::gen::inRange<std::size_t>(1, 16), rc::gen::inRange<std::size_t>(16, 700));
  const auto ranges_max = *rc::gen::inRange<std::size_t>(1, 9);
  const auto stream_len = *rc::gen::inRange<std::size_t>(0, 1500);
  const auto max_segment = *rc::gen::inRange<std::size_t>(1, 200);
  const bool corrupt = *rc::gen::inRange(0, 4) == 0;
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  Rng rng(seed);

  ByteVector original(stream_len);
  for (std::byte& x : original) {
    x = static_cast<std::byte>(rng.below(256));
  }

  // Segments covering the stream, then extra ones anywhere (overlapping, empty), then duplicates.
  std::vector<Segment> segments;
  for (std::size_t pos = 0; pos < stream_len;) {
    const std::size_t len = 1 + rng.below(max_segment);
    segments.push_back({pos, std::min(stream_len, pos + len)});
    pos += len;
  }
  const std::size_t extra = rng.below(20);
  for (std::size_t i = 0; i < extra; ++i) {
    const std::size_t begin = rng.below(stream_len + 1);
    segments.push_back({begin, std::min(stream_len, begin + rng.below(max_segment + 1))});
  }
  const std::size_t dups = segments.empty() ? 0 : rng.below(segments.size() / 2 + 1);
  for (std::size_t i = 0; i < dups; ++i) {
    segments.push_back(segments[rng.below(segments.size())]);
  }

  ReceiveBuffer b(capacity, ranges_max);
  Model model(stream_len, capacity, ranges_max);
  ByteVector scratch;
  ByteVector payload;
  // Each round sends every segment not yet wholly below RCV.NXT (trimmed to start there, as the
  // connection does), in a new order, then the user drains the buffer. Every round delivers at
  // least one byte (the segment holding RCV.NXT fits in an empty buffer), so this bound suffices.
  for (std::size_t round = 0; round <= stream_len && model.rcv_nxt() < stream_len; ++round) {
    for (std::size_t i = segments.size(); i > 1; --i) {
      std::swap(segments[i - 1], segments[rng.below(i)]);
    }
    for (const Segment& s : segments) {
      if (s.end < model.rcv_nxt() || (s.end == model.rcv_nxt() && s.begin < s.end)) {
        continue;  // acknowledged already: not retransmitted
      }
      const std::size_t begin = std::max(s.begin, model.rcv_nxt());
      payload.assign(original.begin() + static_cast<std::ptrdiff_t>(begin),
                     original.begin() + static_cast<std::ptrdiff_t>(s.end));
      if (corrupt && !payload.empty() && rng.chance(0.25)) {
        payload[rng.below(payload.size())] ^= static_cast<std::byte>(1 + rng.below(255));
      }
      const std::size_t readable_before = b.readable();
      const std::size_t advance = b.insert(begin - model.rcv_nxt(), payload);
      RC_ASSERT(advance == model.insert(begin, payload));
      RC_ASSERT(b.readable() == readable_before + advance);
      check_invariants(b, model, ranges_max);
      if (rng.chance(0.3)) {
        read_some(b, model, original, corrupt, rng.below(capacity + 2), scratch);
        check_invariants(b, model, ranges_max);
      }
    }
    read_some(b, model, original, corrupt, capacity, scratch);
    check_invariants(b, model, ranges_max);
  }
  RC_ASSERT(model.rcv_nxt() == stream_len);
  RC_ASSERT(model.read_pos() == stream_len);
  RC_ASSERT(b.readable() == 0u);
  RC_ASSERT(b.out_of_order_ranges() == 0u);
  RC_TAG(corrupt ? "corrupted copies" : "identical copies");
  RC_CLASSIFY(b.counters().out_of_order_dropped > 0, "ranges_max reached");
  RC_CLASSIFY(b.counters().beyond_space_bytes > 0, "cut at free space");
}

RC_GTEST_PROP(SendBufferProp, BehavesLikeADeque, ()) {
  const auto capacity = *rc::gen::inRange<std::size_t>(1, 300);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto steps = *rc::gen::inRange(1, 400);
  Rng rng(seed);
  SendBuffer b(capacity);
  std::deque<std::byte> model;
  ByteVector data;
  ByteVector out;
  for (int step = 0; step < steps; ++step) {
    switch (rng.below(4)) {
      case 0: {
        data.resize(rng.below(capacity + 20));
        for (std::byte& x : data) {
          x = static_cast<std::byte>(rng.below(256));
        }
        const std::size_t n = b.write(data);
        RC_ASSERT(n == std::min(data.size(), capacity - model.size()));
        model.insert(model.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
        break;
      }
      case 1: {
        const std::size_t n = rng.below(model.size() + 10);
        b.consume(n);
        model.erase(model.begin(), model.begin() + static_cast<std::ptrdiff_t>(std::min(n, model.size())));
        break;
      }
      case 2: {
        const std::size_t offset = rng.below(model.size() + 1);
        out.assign(rng.below(model.size() - offset + 1), std::byte{0xa5});
        b.copy_out(offset, out);
        RC_ASSERT(std::equal(out.begin(), out.end(), model.begin() + static_cast<std::ptrdiff_t>(offset)));
        break;
      }
      default: {
        const std::size_t offset = rng.below(model.size() + 1);
        const std::size_t len = rng.below(model.size() - offset + 1);
        const SendBuffer::Slices s = b.slices(offset, len);
        RC_ASSERT(s.first.size() + s.second.size() == len);
        RC_ASSERT(s.second.empty() || s.first.size() > 0);
        const auto mid = model.begin() + static_cast<std::ptrdiff_t>(offset + s.first.size());
        RC_ASSERT(std::equal(s.first.begin(), s.first.end(), model.begin() + static_cast<std::ptrdiff_t>(offset)));
        RC_ASSERT(std::equal(s.second.begin(), s.second.end(), mid));
        break;
      }
    }
    RC_ASSERT(b.size() == model.size());
    RC_ASSERT(b.free() == capacity - model.size());
    RC_ASSERT(b.empty() == model.empty());
    RC_ASSERT(b.capacity() == capacity);
  }
}

}  // namespace
}  // namespace tapstack::tcp
