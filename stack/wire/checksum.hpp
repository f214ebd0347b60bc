#pragma once
// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).

#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::wire {

// Accumulates the 16-bit ones' complement sum over any number of byte runs,
// as if they were one contiguous buffer (odd-length runs are handled).
class Checksum {
 public:
  void add(Bytes data);
  void add_u16(std::uint16_t v);
  void add_u32(std::uint32_t v) {
    add_u16(static_cast<std::uint16_t>(v >> 16));
    add_u16(static_cast<std::uint16_t>(v & 0xffff));
  }
  // The TCP/UDP pseudo header (RFC 793 3.1, RFC 768): source, destination,
  // zero, protocol, and the transport length.
  void add_pseudo_header(Ipv4Address src, Ipv4Address dst, std::uint8_t protocol, std::uint16_t length);

  // The folded ones' complement sum (RFC 1071 2(C)).
  std::uint16_t sum() const;
  // The checksum to store: the ones' complement of the sum. Over data that
  // includes a correct checksum field this is 0.
  std::uint16_t finish() const { return static_cast<std::uint16_t>(~sum()); }

 private:
  std::uint64_t acc_ = 0;       // unfolded sum of big-endian 16-bit words
  bool odd_ = false;            // the runs so far had an odd total length
};

// Checksum of one buffer.
std::uint16_t internet_checksum(Bytes data);

// RFC 1624 eqn. 3: the new checksum after one 16-bit field of the covered
// data changes from old_field to new_field: HC' = ~(~HC + ~m + m').
std::uint16_t checksum_update(std::uint16_t old_checksum, std::uint16_t old_field, std::uint16_t new_field);

}  // namespace tapstack::wire
