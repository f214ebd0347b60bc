#include "stack/tcp/send_buffer.hpp"

#include <algorithm>
#include <cassert>

namespace tapstack::tcp {

SendBuffer::SendBuffer(std::size_t capacity) : storage_(capacity) { assert(capacity >= 1); }

std::size_t SendBuffer::write(Bytes data) {
  const std::size_t n = std::min(data.size(), free());
  if (n == 0) {
    return 0;
  }
  std::size_t tail = head_ + size_;  // < 2 * capacity: no division on the data path
  if (tail >= capacity()) {
    tail -= capacity();
  }
  const std::size_t first = std::min(n, capacity() - tail);
  std::copy_n(data.data(), first, storage_.data() + tail);
  std::copy_n(data.data() + first, n - first, storage_.data());
  size_ += n;
  return n;
}

SendBuffer::Slices SendBuffer::slices(std::size_t offset, std::size_t len) const {
  assert(offset <= size_ && len <= size_ - offset);
  if (len == 0) {
    return {};
  }
  std::size_t start = head_ + offset;
  if (start >= capacity()) {
    start -= capacity();
  }
  const std::size_t first = std::min(len, capacity() - start);
  return {Bytes{storage_.data() + start, first}, Bytes{storage_.data(), len - first}};
}

void SendBuffer::copy_out(std::size_t offset, MutableBytes out) const {
  const Slices s = slices(offset, out.size());
  std::copy_n(s.first.data(), s.first.size(), out.data());
  std::copy_n(s.second.data(), s.second.size(), out.data() + s.first.size());
}

void SendBuffer::consume(std::size_t n) {
  n = std::min(n, size_);
  size_ -= n;
  if (size_ == 0) {
    // Restart at the front, so the next writes and segments stay in one piece.
    head_ = 0;
    return;
  }
  head_ += n;
  if (head_ >= capacity()) {
    head_ -= capacity();
  }
}

}  // namespace tapstack::tcp
