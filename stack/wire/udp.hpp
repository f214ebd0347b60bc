#pragma once
// UDP (RFC 768) over IPv4: the 8-byte header and the checksum over the IPv4
// pseudo header. A checksum field of 0 means the sender computed none.
//
// Emitting is zero-copy: the caller builds the datagram in one buffer,
// payload first at out[UdpView::kHeaderLen ...], then UdpRepr::emit writes
// the header in front and the checksum over the whole datagram:
//
//   ByteVector out(repr.buffer_len());
//   std::ranges::copy(payload, out.begin() + UdpView::kHeaderLen);
//   repr.emit(out, src, dst);

#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/error.hpp"

namespace tapstack::wire {

class UdpView {
 public:
  static constexpr std::size_t kHeaderLen = 8;

  // Errors: Truncated (fewer than 8 bytes), BadLength (the length field is
  // below 8 or above the bytes present). More bytes than the length field
  // says are allowed (link padding) and ignored: the view ends where the
  // length field says.
  static Result<UdpView, Error> parse(Bytes datagram);

  std::uint16_t source_port() const;
  std::uint16_t destination_port() const;
  std::uint16_t length() const;
  std::uint16_t checksum() const;
  // RFC 768: an all-zero checksum field means "no checksum".
  bool has_checksum() const { return checksum() != 0; }
  Bytes payload() const { return bytes_.subspan(kHeaderLen); }
  // The datagram as the length field bounds it.
  Bytes bytes() const { return bytes_; }

  // True when the checksum over the pseudo header and datagram verifies, or
  // when the datagram carries none (a zero field is not verified).
  bool verify_checksum(Ipv4Address source, Ipv4Address destination) const;

 private:
  explicit UdpView(Bytes datagram) : bytes_(datagram) {}
  Bytes bytes_;
};

struct UdpRepr {
  // The largest payload the 16-bit length field can describe.
  static constexpr std::size_t kMaxPayloadLen = 0xffff - UdpView::kHeaderLen;

  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::size_t payload_len = 0;  // at most kMaxPayloadLen
  // Whether the datagram carries a checksum (field != 0). Kept from parse so
  // that a datagram sent without one re-emits without one.
  bool has_checksum = true;

  // With ChecksumCheck::Verify, a checksum present that does not verify is
  // BadChecksum.
  static Result<UdpRepr, Error> parse(const UdpView& view, Ipv4Address source, Ipv4Address destination,
                                      ChecksumCheck check);

  std::size_t header_len() const { return UdpView::kHeaderLen; }
  std::size_t buffer_len() const { return header_len() + payload_len; }

  // Writes the header into out[0, 8) and, if has_checksum, the checksum over
  // the pseudo header and out[0, buffer_len()), whose payload the caller has
  // already placed at out[8, buffer_len()). A computed checksum of 0 is sent
  // as 0xffff (RFC 768), since 0 would mean "none". out must hold at least
  // buffer_len() bytes.
  void emit(MutableBytes out, Ipv4Address source, Ipv4Address destination) const;

  bool operator==(const UdpRepr&) const = default;
};

}  // namespace tapstack::wire
