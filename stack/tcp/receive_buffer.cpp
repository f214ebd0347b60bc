#include "stack/tcp/receive_buffer.hpp"

#include <algorithm>
#include <cassert>

namespace tapstack::tcp {

ReceiveBuffer::ReceiveBuffer(std::size_t capacity, std::size_t ranges_max)
    : storage_(capacity), ranges_max_(ranges_max) {
  assert(capacity >= 1 && ranges_max >= 1);
  // Every later change to ranges_ stays within this: no allocation after construction.
  ranges_.reserve(ranges_max_ + 1);
}

std::size_t ReceiveBuffer::out_of_order_bytes() const {
  std::size_t total = 0;
  for (const Range& r : ranges_) {  // at most ranges_max iterations
    total += r.end - r.begin;
  }
  return total;
}

void ReceiveBuffer::copy_in(std::size_t offset, Bytes data) {
  assert(offset <= free() && data.size() <= free() - offset);
  // head_ < capacity and readable_ + offset < capacity, so one subtraction wraps it.
  std::size_t at = head_ + readable_ + offset;
  if (at >= capacity()) {
    at -= capacity();
  }
  const std::size_t first = std::min(data.size(), capacity() - at);
  std::copy_n(data.data(), first, storage_.data() + at);
  std::copy_n(data.data() + first, data.size() - first, storage_.data());
}

std::size_t ReceiveBuffer::insert(std::size_t offset, Bytes data) {
  // RFC 9293 3.10.7.4 "first check sequence number": portions outside the window are trimmed off.
  // The window offered never exceeds free(), so this cuts only what a peer sent past it.
  const std::size_t space = free();
  if (offset >= space) {
    counters_.beyond_space_bytes += data.size();
    return 0;
  }
  const std::size_t len = std::min(data.size(), space - offset);
  counters_.beyond_space_bytes += data.size() - len;
  if (len == 0) {
    return 0;
  }
  const std::size_t begin = offset;
  const std::size_t end = offset + len;

  // The ranges touching [begin, end] (overlapping or adjacent) are [first, last): they merge with
  // the new data into one. Ranges are sorted and disjoint, so both ends are binary searches.
  const auto first =
      std::partition_point(ranges_.begin(), ranges_.end(), [&](const Range& r) { return r.end < begin; });
  const auto last = std::partition_point(first, ranges_.end(), [&](const Range& r) { return r.begin <= end; });

  if (begin > 0) {
    ++counters_.out_of_order_segments;
    if (first == last && ranges_.size() >= ranges_max_) {
      // Holding data beyond RCV.NXT is a SHOULD (SHLD-31), not a MUST: an island that needs a
      // range of its own while all are in use is dropped (the peer retransmits it), so a hostile
      // peer cannot grow the bookkeeping.
      ++counters_.out_of_order_dropped;
      return 0;
    }
  }

  // Write only into the gaps between held ranges: bytes already held keep their first copy.
  std::size_t cursor = begin;
  for (auto it = first; it != last && cursor < end; ++it) {
    if (it->begin > cursor) {
      copy_in(cursor, data.subspan(cursor - begin, it->begin - cursor));
    }
    cursor = std::max(cursor, it->end);
  }
  if (cursor < end) {
    copy_in(cursor, data.subspan(cursor - begin, end - cursor));
  }

  if (begin > 0) {
    if (first == last) {
      ranges_.insert(first, Range{begin, end});  // within the reserved capacity
    } else {
      first->begin = std::min(first->begin, begin);
      first->end = std::max(std::prev(last)->end, end);
      ranges_.erase(std::next(first), last);
    }
    return 0;
  }

  // The data starts at the in-order end, which moves past it and past every range it now reaches
  // (RFC 9293 3.10.7.4 "seventh, process the segment text": RCV.NXT advances over the data
  // accepted, here including the held segments it made contiguous).
  const std::size_t advance = first == last ? end : std::max(end, std::prev(last)->end);
  ranges_.erase(first, last);  // first == begin(): every range ends at or after 0
  for (Range& r : ranges_) {
    r.begin -= advance;
    r.end -= advance;
  }
  readable_ += advance;
  return advance;
}

std::size_t ReceiveBuffer::read(MutableBytes out) {
  const std::size_t n = std::min(out.size(), readable_);
  if (n == 0) {
    return 0;
  }
  const std::size_t first = std::min(n, capacity() - head_);
  std::copy_n(storage_.data() + head_, first, out.data());
  std::copy_n(storage_.data(), n - first, out.data() + first);
  // Ranges are relative to the in-order end (head_ + readable_), which this does not move.
  head_ += n;
  if (head_ >= capacity()) {
    head_ -= capacity();
  }
  readable_ -= n;
  if (readable_ == 0 && ranges_.empty()) {
    head_ = 0;  // nothing positioned: restart at the front so data stays in one piece
  }
  return n;
}

}  // namespace tapstack::tcp
