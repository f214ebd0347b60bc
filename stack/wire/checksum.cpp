#include "stack/wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace tapstack::wire {

namespace {

std::uint64_t fold64(std::uint64_t s) {
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  return s;
}

// Sums an even-length buffer, 32 bytes per step with four independent 64-bit
// accumulators (RFC 1071 2(A): the sum can be done in any word size, and 2(B):
// it is byte-order independent, so words are loaded in native order and the
// folded result is swapped once at the end). Returns the folded sum of the
// buffer's big-endian 16-bit words.
std::uint16_t sum_words(Bytes data) {
  const std::byte* p = data.data();
  std::size_t n = data.size();
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t c = 0;
  std::uint64_t d = 0;
  // Each step adds 64-bit words with end-around carry via the carry-out.
  auto add = [](std::uint64_t& acc, std::uint64_t w) {
    acc += w;
    acc += (acc < w) ? 1 : 0;
  };
  while (n >= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, 32);
    add(a, w[0]);
    add(b, w[1]);
    add(c, w[2]);
    add(d, w[3]);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    add(a, w);
    p += 8;
    n -= 8;
  }
  std::uint64_t tail = 0;
  while (n >= 2) {
    std::uint16_t w;
    std::memcpy(&w, p, 2);
    tail += w;
    p += 2;
    n -= 2;
  }
  std::uint64_t total = fold64(a);
  total += fold64(b);
  total += fold64(c);
  total += fold64(d);
  total += fold64(tail);
  auto folded = static_cast<std::uint16_t>(fold64(total));
  if constexpr (std::endian::native == std::endian::little) {
    folded = static_cast<std::uint16_t>((folded >> 8) | (folded << 8));
  }
  return folded;
}

}  // namespace

void Checksum::add(Bytes data) {
  if (data.empty()) {
    return;
  }
  if (odd_) {
    // The previous run ended mid-word: this byte is that word's low half.
    acc_ += static_cast<std::uint8_t>(data[0]);
    data = data.subspan(1);
    odd_ = false;
  }
  const std::size_t even = data.size() & ~std::size_t{1};
  acc_ += sum_words(data.first(even));
  if (even != data.size()) {
    acc_ += static_cast<std::uint64_t>(static_cast<std::uint8_t>(data[even])) << 8;
    odd_ = true;
  }
}

void Checksum::add_u16(std::uint16_t v) {
  if (odd_) {
    // Keep byte positions right even after an odd run.
    acc_ += (v >> 8);
    acc_ += static_cast<std::uint64_t>(v & 0xff) << 8;
  } else {
    acc_ += v;
  }
}

void Checksum::add_pseudo_header(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, std::uint16_t length) {
  add_u32(src.value);
  add_u32(dst.value);
  add_u16(protocol);
  add_u16(length);
}

std::uint16_t Checksum::sum() const { return static_cast<std::uint16_t>(fold64(acc_)); }

std::uint16_t internet_checksum(Bytes data) {
  Checksum c;
  c.add(data);
  return c.finish();
}

std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint16_t old_field, std::uint16_t new_field) {
  std::uint32_t sum = static_cast<std::uint16_t>(~old_checksum);
  sum += static_cast<std::uint16_t>(~old_field);
  sum += new_field;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

}  // namespace tapstack::wire
