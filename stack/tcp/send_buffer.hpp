#pragma once
// SendBuffer: the bytes a connection has accepted from its user and not yet
// had acknowledged (RFC 9293 3.3.1: the send sequence space from SND.UNA to
// the end of queued data). A fixed-capacity ring: write() appends what fits,
// copy_out() reads any range for (re)transmission, consume() drops bytes the
// peer acknowledged. No allocation after construction.
//
// Offsets are relative to the oldest byte held (the byte at SND.UNA, or after
// the SYN while it is unacknowledged: the connection maps sequence numbers to
// offsets).

#include <cstddef>

#include "stack/base/bytes.hpp"

namespace tapstack::tcp {

class SendBuffer {
 public:
  // capacity >= 1 (StackConfig validates it).
  explicit SendBuffer(std::size_t capacity);

  std::size_t capacity() const { return storage_.size(); }
  // Bytes held: unacknowledged (sent or not).
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity() - size_; }
  bool empty() const { return size_ == 0; }

  // Appends min(data.size(), free()) bytes; returns how many.
  std::size_t write(Bytes data);
  // Copies the bytes [offset, offset + out.size()) into out. Requires offset + out.size() <= size().
  void copy_out(std::size_t offset, MutableBytes out) const;
  // The same range as at most two contiguous spans of the ring (the second empty when the range
  // does not wrap): lets the caller copy straight into a frame. Valid until the next write/consume.
  struct Slices {
    Bytes first;
    Bytes second;
  };
  Slices slices(std::size_t offset, std::size_t len) const;
  // Drops the oldest min(n, size()) bytes (acknowledged by the peer).
  void consume(std::size_t n);

 private:
  ByteVector storage_;
  std::size_t head_ = 0;  // index of the oldest byte
  std::size_t size_ = 0;
};

}  // namespace tapstack::tcp
