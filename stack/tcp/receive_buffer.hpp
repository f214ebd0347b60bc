#pragma once
// ReceiveBuffer: received bytes waiting for the user, plus out-of-order data
// held until the gap before it fills (RFC 9293 3.10.7.4 "segment text": data
// beyond RCV.NXT may be kept; RFC 1122 4.2.2.20 recommends queuing it).
//
// One fixed-capacity ring holds both. In-order bytes sit at the front; data
// that arrived ahead of a gap is written straight into the ring at its final
// place, and a small sorted list of [begin, end) ranges remembers which parts
// beyond the in-order end are filled. So the out-of-order queue costs no memory
// beyond the window it lies in, and its bookkeeping is bounded by
// `ranges_max` (a hostile peer sending one-byte islands cannot grow it).
//
// Offsets passed to insert() are relative to the in-order end (RCV.NXT): the
// connection turns sequence numbers into offsets, having trimmed the segment
// to the window already (nothing below RCV.NXT reaches here).

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "stack/base/bytes.hpp"

namespace tapstack::tcp {

struct ReceiveBufferCounters {
  std::uint64_t out_of_order_segments = 0;  // inserts that left a gap before them
  std::uint64_t out_of_order_dropped = 0;   // inserts dropped: would need more than ranges_max ranges
  std::uint64_t beyond_space_bytes = 0;     // bytes cut off because they lay beyond free space
};

class ReceiveBuffer {
 public:
  // capacity >= 1, ranges_max >= 1 (StackConfig validates them).
  ReceiveBuffer(std::size_t capacity, std::size_t ranges_max);

  // A filled stretch beyond the in-order end, [begin, end) as offsets from it.
  struct Range {
    std::size_t begin;
    std::size_t end;
  };

  std::size_t capacity() const { return storage_.size(); }
  // In-order bytes ready for read().
  std::size_t readable() const { return readable_; }
  // Space after the in-order bytes: the most the receive window may offer (RFC 9293 3.8.6.2.2).
  std::size_t free() const { return capacity() - readable_; }
  // Out-of-order ranges held beyond the in-order end, and the bytes in them.
  std::size_t out_of_order_ranges() const { return ranges_.size(); }
  std::size_t out_of_order_bytes() const;
  // The end of the furthest out-of-order range, as an offset from the in-order end (0 if none).
  std::size_t out_of_order_end() const { return ranges_.empty() ? 0 : ranges_.back().end; }
  // The out-of-order ranges themselves: sorted, disjoint, not touching, each begin > 0 (what SACK
  // blocks would report, RFC 2018 3). Valid until the next insert/read/clear_out_of_order.
  std::span<const Range> out_of_order() const { return ranges_; }

  // Stores `data`, which starts `offset` bytes after the in-order end. Bytes at or beyond free()
  // are cut off (counted). Bytes already held are not rewritten (the first copy wins; a TCP
  // retransmission carries the same bytes). Returns by how much the in-order data grew: the
  // amount RCV.NXT advances (0 when the data left a gap before it, or filled one only partly).
  std::size_t insert(std::size_t offset, Bytes data);
  // Moves min(out.size(), readable()) in-order bytes out; returns how many.
  std::size_t read(MutableBytes out);
  // Drops every out-of-order range (e.g. when the connection is reset).
  void clear_out_of_order() { ranges_.clear(); }

  const ReceiveBufferCounters& counters() const { return counters_; }

 private:
  void copy_in(std::size_t offset, Bytes data);  // offset from the in-order end, within free()

  ByteVector storage_;
  std::size_t head_ = 0;      // index of the oldest readable byte
  std::size_t readable_ = 0;
  std::size_t ranges_max_;
  std::vector<Range> ranges_;  // sorted, disjoint, non-adjacent; reserved to ranges_max_ + 1
  ReceiveBufferCounters counters_;
};

}  // namespace tapstack::tcp
