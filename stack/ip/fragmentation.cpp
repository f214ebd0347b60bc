#include "stack/ip/fragmentation.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>

namespace tapstack::ip {

namespace {

// RFC 791 3.1 "Options": the option-type octet is copied flag (1 bit),
// class (2 bits) and number (5 bits).
constexpr std::uint8_t kCopiedFlag = 0x80;
constexpr std::uint8_t kEndOfOptionList = 0;
constexpr std::uint8_t kNoOperation = 1;
// RFC 791 3.1 "Fragment Offset": units of 8 octets.
constexpr std::size_t kFragmentUnit = 8;
// The largest fragment offset the 13-bit field can express, in bytes.
constexpr std::size_t kOffsetMax = 0x1fff * kFragmentUnit;

}  // namespace

wire::Ipv4Options options_copied_on_fragmentation(const wire::Ipv4Options& options) {
  const Bytes raw = options.bytes();
  std::array<std::byte, wire::Ipv4Options::kMaxLen> out{};
  std::size_t out_len = 0;
  std::size_t at = 0;
  while (at < raw.size()) {
    const std::uint8_t type = load_u8(raw, at);
    if (type == kEndOfOptionList) {
      break;
    }
    if (type == kNoOperation) {
      at += 1;
      continue;
    }
    if (at + 1 >= raw.size()) {
      break;  // no length octet
    }
    const std::size_t len = load_u8(raw, at + 1);
    if (len < 2 || at + len > raw.size()) {
      break;  // malformed: copy nothing more
    }
    if ((type & kCopiedFlag) != 0) {
      std::copy(raw.begin() + static_cast<std::ptrdiff_t>(at), raw.begin() + static_cast<std::ptrdiff_t>(at + len),
                out.begin() + static_cast<std::ptrdiff_t>(out_len));
      out_len += len;
    }
    at += len;
  }
  // Pad with End of Option List octets (zeros) to the IHL's 32-bit words.
  out_len = (out_len + 3) / 4 * 4;
  // A subset of a valid option list: at most 40 bytes, a multiple of 4.
  return *wire::Ipv4Options::from_bytes(Bytes{out.data(), out_len});
}

bool fragment_datagram(const wire::Ipv4Repr& header, Bytes payload, std::size_t mtu,
                       const std::function<void(const wire::Ipv4Repr&, Bytes)>& emit) {
  const std::size_t first_header_len = header.header_len();
  if (first_header_len + payload.size() > wire::Ipv4View::kMaxTotalLen ||
      header.fragment_offset + payload.size() > wire::Ipv4View::kMaxTotalLen) {
    return false;
  }
  if (first_header_len + payload.size() <= mtu) {
    wire::Ipv4Repr whole = header;
    whole.payload_len = static_cast<std::uint16_t>(payload.size());
    emit(whole, payload);
    return true;
  }
  // RFC 791 3.2: a datagram with Don't Fragment set that does not fit is
  // discarded (the caller may report "fragmentation needed").
  if (header.dont_fragment) {
    return false;
  }
  // Every fragment must carry at least one 8-byte unit; later headers are
  // never longer than the first.
  if (mtu < first_header_len + kFragmentUnit) {
    return false;
  }
  const wire::Ipv4Options later_options = options_copied_on_fragmentation(header.options);
  std::size_t offset = 0;
  bool first_fragment = true;
  while (offset < payload.size()) {
    wire::Ipv4Repr piece = header;
    if (!first_fragment) {
      piece.options = later_options;
    }
    const std::size_t room = (mtu - piece.header_len()) / kFragmentUnit * kFragmentUnit;
    const std::size_t len = std::min(room, payload.size() - offset);
    const bool last = offset + len == payload.size();
    piece.fragment_offset = static_cast<std::uint16_t>(header.fragment_offset + offset);
    piece.more_fragments = last ? header.more_fragments : true;
    piece.payload_len = static_cast<std::uint16_t>(len);
    if (piece.fragment_offset > kOffsetMax) {
      std::abort();  // excluded by the 65535 check above
    }
    emit(piece, payload.subspan(offset, len));
    offset += len;
    first_fragment = false;
  }
  return true;
}

}  // namespace tapstack::ip
