#pragma once
// ByteRing: a fixed-capacity FIFO of bytes, the bounded buffer every TCP app
// keeps between two sides that move at different speeds (echo: the peer's
// data waiting to be sent back; connect: standard input waiting for the
// connection, the connection's data waiting for standard output). Its
// capacity is the app's backpressure: when it is full the app stops reading,
// the stack's receive buffer fills and the advertised window closes.
//
// Data goes in and out in contiguous spans (write_span/commit,
// read_span/consume) so that tcp_receive and tcp_send copy straight into and
// out of it, with no staging copy. The storage is allocated once, at
// construction.

#include <algorithm>
#include <cstddef>
#include <vector>

#include "stack/base/bytes.hpp"

namespace tapstack::apps {

class ByteRing {
 public:
  explicit ByteRing(std::size_t capacity) : storage_(capacity) {}

  std::size_t capacity() const { return storage_.size(); }
  std::size_t size() const { return size_; }
  std::size_t free() const { return storage_.size() - size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == storage_.size(); }

  // The contiguous free space after the data: non-empty whenever free() > 0.
  MutableBytes write_span() {
    if (size_ == 0) {
      head_ = 0;  // empty: start over at the front, so the whole capacity is one span
    }
    const std::size_t tail = (head_ + size_) % capacity_or_one();
    const std::size_t len = (tail >= head_ && size_ < storage_.size()) ? storage_.size() - tail : head_ - tail;
    return MutableBytes{storage_.data() + tail, size_ == storage_.size() ? 0 : len};
  }
  // Appends the first `n` bytes of the last write_span() (n <= its size).
  void commit(std::size_t n) { size_ += std::min(n, free()); }

  // The contiguous data at the front: non-empty whenever size() > 0.
  Bytes read_span() const { return Bytes{storage_.data() + head_, std::min(size_, storage_.size() - head_)}; }
  // Drops `n` bytes from the front (n <= size()).
  void consume(std::size_t n) {
    n = std::min(n, size_);
    head_ = (head_ + n) % capacity_or_one();
    size_ -= n;
  }

  // Copies what fits of `data` in; returns how much.
  std::size_t push(Bytes data) {
    std::size_t taken = 0;
    while (taken < data.size() && free() > 0) {
      MutableBytes span = write_span();
      const std::size_t n = std::min(span.size(), data.size() - taken);
      std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(taken), n, span.begin());
      commit(n);
      taken += n;
    }
    return taken;
  }

  void clear() {
    head_ = 0;
    size_ = 0;
  }

 private:
  std::size_t capacity_or_one() const { return storage_.empty() ? 1 : storage_.size(); }

  std::vector<std::byte> storage_;
  std::size_t head_ = 0;  // index of the first byte of data
  std::size_t size_ = 0;
};

}  // namespace tapstack::apps
