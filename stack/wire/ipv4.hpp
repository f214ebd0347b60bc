#pragma once
// The IPv4 header (RFC 791 section 3.1), options kept as raw bytes. Every bit
// of the header is represented, including the reserved flag, so that
// emit(parse(bytes)) reproduces a captured header exactly.

#include <array>
#include <cstddef>
#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/error.hpp"

namespace tapstack::wire {

// The Protocol field (RFC 791 3.1, numbers from the IANA registry). Unknown
// values are kept.
enum class IpProtocol : std::uint8_t {
  Icmp = 1,
  Tcp = 6,
  Udp = 17,
};

class Ipv4View {
 public:
  static constexpr std::size_t kMinHeaderLen = 20;  // IHL 5
  static constexpr std::size_t kMaxHeaderLen = 60;  // IHL 15
  static constexpr std::size_t kMaxTotalLen = 65535;

  // Checks, in this order: Truncated (< 20 bytes), BadVersion (!= 4),
  // BadHeaderLength (IHL < 5 or past the buffer), BadTotalLength (total
  // length < header length or > the bytes present), BadFragment (fragment
  // offset + payload length > 65535). Bytes after the total length (Ethernet
  // padding of short frames) are allowed; the view ends at the total length.
  // The header checksum is not checked here: see verify_checksum().
  static Result<Ipv4View, Error> parse(Bytes datagram);

  // For the IPv4 header quoted in an ICMP error (RFC 792): the quote holds the
  // header and only the first bytes of the datagram, so the total length is
  // not compared with the bytes present and the fragment check is skipped.
  // payload() is whatever of the datagram the quote holds.
  static Result<Ipv4View, Error> parse_quoted(Bytes quote);

  std::uint8_t version() const;
  std::size_t header_len() const;  // IHL * 4
  std::uint8_t dscp() const;       // RFC 2474: the upper six bits of the old TOS
  std::uint8_t ecn() const;        // RFC 3168: the lower two bits
  std::uint16_t total_len() const;
  std::uint16_t identification() const;
  bool reserved_flag() const;  // RFC 791 "Bit 0: reserved, must be zero"; kept as read
  bool dont_fragment() const;
  bool more_fragments() const;
  std::uint16_t fragment_offset() const;  // in bytes: the field counts 8-byte units
  std::uint8_t ttl() const;
  IpProtocol protocol() const;
  std::uint16_t header_checksum() const;
  Ipv4Address source() const;
  Ipv4Address destination() const;
  Bytes options() const;  // header_len() - 20 bytes, unparsed
  Bytes header() const;   // the first header_len() bytes
  Bytes payload() const;  // from the header to the total length
  // The datagram: header and payload, without trailing padding.
  Bytes bytes() const { return bytes_; }

  // RFC 791 3.1 "Header Checksum": the ones' complement sum over the header,
  // checksum field included, is all ones.
  bool verify_checksum() const;

 private:
  explicit Ipv4View(Bytes datagram) : bytes_(datagram) {}
  Bytes bytes_;
};

// Options as they appear in the header: up to 40 bytes, a multiple of 4 (the
// IHL counts 32-bit words; RFC 791 pads the option list with zeros to that).
// Stored inline, so a Repr needs no heap.
class Ipv4Options {
 public:
  static constexpr std::size_t kMaxLen = Ipv4View::kMaxHeaderLen - Ipv4View::kMinHeaderLen;

  Ipv4Options() = default;
  // BadHeaderLength if raw is longer than 40 bytes or not a multiple of 4:
  // no IHL could describe the header.
  static Result<Ipv4Options, Error> from_bytes(Bytes raw);

  Bytes bytes() const { return Bytes{data_.data(), len_}; }
  std::size_t size() const { return len_; }
  bool empty() const { return len_ == 0; }

  // Compares the bytes in use only.
  bool operator==(const Ipv4Options& other) const;

 private:
  std::array<std::byte, kMaxLen> data_{};
  std::uint8_t len_ = 0;
};

// A header as host-order values. Valid when dscp < 64, ecn < 4,
// fragment_offset is a multiple of 8 and at most 65528,
// header_len() + payload_len <= 65535 and fragment_offset + payload_len <=
// 65535; every Repr that parse() returns is.
struct Ipv4Repr {
  std::uint8_t dscp = 0;
  std::uint8_t ecn = 0;
  std::uint16_t identification = 0;
  bool reserved_flag = false;
  bool dont_fragment = false;
  bool more_fragments = false;
  std::uint16_t fragment_offset = 0;  // in bytes
  std::uint8_t ttl = 64;
  IpProtocol protocol = IpProtocol::Udp;
  Ipv4Address source;
  Ipv4Address destination;
  Ipv4Options options;
  std::uint16_t payload_len = 0;  // total length - header length

  // BadChecksum if check is Verify and the header checksum is wrong. The
  // checksum itself is not kept: emit() computes it.
  static Result<Ipv4Repr, Error> parse(const Ipv4View& view, ChecksumCheck check);

  std::size_t header_len() const { return Ipv4View::kMinHeaderLen + options.size(); }
  std::size_t buffer_len() const { return header_len() + payload_len; }
  // Writes the header, checksum included, into out[0, header_len()); out must
  // be at least that long. The payload is the caller's to write after it.
  void emit(MutableBytes out) const;

  bool operator==(const Ipv4Repr&) const = default;
};

}  // namespace tapstack::wire
