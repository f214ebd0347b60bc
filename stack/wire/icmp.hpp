#pragma once
// ICMP for IPv4 (RFC 792): echo request and reply, destination unreachable
// (with the RFC 1191 next-hop MTU for "fragmentation needed"), time
// exceeded, and every other message kept raw. The checksum covers the whole
// ICMP message.
//
// Lifetime: the Reprs below hold non-owning `Bytes` views of the echo data or
// the quoted datagram. After parse() they point into the buffer the view was
// parsed from, which must outlive the Repr; a Repr built to be emitted points
// at whatever the caller supplies. emit() copies the bytes out.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <variant>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/error.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack::wire {

// The Type field. Unknown values are kept.
enum class IcmpType : std::uint8_t {
  EchoReply = 0,
  DestinationUnreachable = 3,
  SourceQuench = 4,
  Redirect = 5,
  EchoRequest = 8,
  TimeExceeded = 11,
  ParameterProblem = 12,
  Timestamp = 13,
  TimestampReply = 14,
};

// Destination unreachable codes: 0-5 from RFC 792, 6-12 from RFC 1122
// 3.2.2.1, 13-15 from RFC 1812 5.2.7.1. Unknown values are kept.
enum class IcmpUnreachableCode : std::uint8_t {
  NetUnreachable = 0,
  HostUnreachable = 1,
  ProtocolUnreachable = 2,
  PortUnreachable = 3,
  FragmentationNeeded = 4,
  SourceRouteFailed = 5,
  NetUnknown = 6,
  HostUnknown = 7,
  SourceHostIsolated = 8,
  NetProhibited = 9,
  HostProhibited = 10,
  NetUnreachableForTos = 11,
  HostUnreachableForTos = 12,
  CommunicationProhibited = 13,
  HostPrecedenceViolation = 14,
  PrecedenceCutoff = 15,
};

// Time exceeded codes (RFC 792). Unknown values are kept.
enum class IcmpTimeExceededCode : std::uint8_t {
  TtlExceeded = 0,
  ReassemblyTimeExceeded = 1,
};

class IcmpView {
 public:
  // Type, code, checksum and the 4-byte rest of header.
  static constexpr std::size_t kHeaderLen = 8;

  // Truncated if shorter than the 8-byte header. The whole of `message` is
  // the ICMP message (pass the IPv4 payload, which ends at the total length).
  static Result<IcmpView, Error> parse(Bytes message);

  IcmpType type() const;
  std::uint8_t code() const;
  std::uint16_t checksum() const;
  std::uint32_t rest_of_header() const;
  // Echo (RFC 792 "Echo or Echo Reply Message"): the rest of header split in two.
  std::uint16_t echo_identifier() const;
  std::uint16_t echo_sequence() const;
  // RFC 1191 4: the low 16 bits of the rest of header in a "fragmentation
  // needed" destination unreachable; zero from routers older than RFC 1191.
  std::uint16_t next_hop_mtu() const;
  Bytes data() const;  // everything after the 8-byte header
  Bytes bytes() const { return bytes_; }

  // RFC 792: the ones' complement sum over the whole message, checksum field
  // included, is all ones.
  bool verify_checksum() const;

 private:
  explicit IcmpView(Bytes message) : bytes_(message) {}
  Bytes bytes_;
};

// Echo request and reply carry the same fields (RFC 792); code is 0.
struct IcmpEchoRequest {
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  Bytes data;  // non-owning; compared by content
  bool operator==(const IcmpEchoRequest& other) const;
};

struct IcmpEchoReply {
  std::uint16_t identifier = 0;
  std::uint16_t sequence = 0;
  Bytes data;  // non-owning; compared by content
  bool operator==(const IcmpEchoReply& other) const;
};

struct IcmpDestinationUnreachable {
  IcmpUnreachableCode code = IcmpUnreachableCode::PortUnreachable;
  // Bytes 4-5 of the message: "unused" (zero) in RFC 792 and RFC 1191; RFC
  // 4884 puts a length in byte 5. Kept as read so round trips are exact.
  std::uint16_t unused = 0;
  // Bytes 6-7: the next-hop MTU for FragmentationNeeded (RFC 1191 4);
  // "unused" and zero for the other codes, kept as read.
  std::uint16_t next_hop_mtu = 0;
  // The IPv4 header and at least the first 8 bytes of the datagram that
  // caused the error (RFC 1122 3.2.2); see IcmpQuote. Non-owning.
  Bytes quoted;
  bool operator==(const IcmpDestinationUnreachable& other) const;
};

struct IcmpTimeExceeded {
  IcmpTimeExceededCode code = IcmpTimeExceededCode::TtlExceeded;
  std::uint32_t unused = 0;  // bytes 4-7, "unused" in RFC 792; kept as read
  Bytes quoted;              // as in IcmpDestinationUnreachable
  bool operator==(const IcmpTimeExceeded& other) const;
};

// Any other message, as it came: redirects, parameter problems, timestamps,
// unknown types, and echo messages with a code other than 0. A message that
// fits one of the structs above is never parsed into this one, so for a
// round trip `type` must not be 3 or 11, nor 0 or 8 with code 0.
struct IcmpOther {
  IcmpType type = IcmpType::ParameterProblem;
  std::uint8_t code = 0;
  std::uint32_t rest_of_header = 0;
  Bytes data;  // non-owning
  bool operator==(const IcmpOther& other) const;
};

using IcmpMessage =
    std::variant<IcmpEchoRequest, IcmpEchoReply, IcmpDestinationUnreachable, IcmpTimeExceeded, IcmpOther>;

struct IcmpRepr {
  IcmpMessage message;

  // BadChecksum if check is Verify and the checksum is wrong. The Repr's
  // Bytes point into view.bytes().
  static Result<IcmpRepr, Error> parse(const IcmpView& view, ChecksumCheck check);

  IcmpType type() const;
  std::uint8_t code() const;
  std::size_t buffer_len() const;  // 8 + the data or quote
  // Writes the whole message, checksum included; out.size() must be exactly
  // buffer_len(). The data may already sit at out[8..] (an echo reply built
  // in place over its request): it is moved, not copied.
  void emit(MutableBytes out) const;

  bool operator==(const IcmpRepr&) const = default;
};

// The datagram quoted in a destination unreachable or time exceeded message:
// its IPv4 header and the first bytes of its payload, which for TCP and UDP
// begin with the ports (RFC 1122 3.2.2: the transport is found from the
// quoted protocol number).
struct IcmpQuote {
  struct Ports {
    std::uint16_t source = 0;
    std::uint16_t destination = 0;
    bool operator==(const Ports&) const = default;
  };

  // The quoted header; payload_len is the original datagram's, from its total
  // length, however little of it was quoted. The checksum is not verified: a
  // router may quote the header after changing it.
  Ipv4Repr header;
  // Up to the first 8 bytes of the original payload (RFC 792 "64 bits of
  // Data Datagram"); fewer if the quote or the datagram was shorter.
  // Non-owning: points into the quote.
  Bytes leading;

  // Truncated if the quote is shorter than 20 bytes, BadVersion,
  // BadHeaderLength if its IHL runs past the quote, BadTotalLength if the
  // total length is shorter than the header. Never reads past the quote.
  static Result<IcmpQuote, Error> parse(Bytes quoted);

  // Source and destination port, for a quoted TCP or UDP datagram that is an
  // initial fragment and quotes at least 4 payload bytes; nullopt otherwise.
  std::optional<Ports> ports() const;
};

}  // namespace tapstack::wire
