#pragma once
// What a TCP connection exchanges with the layer below it: segments as the
// state machine sees them (RFC 9293 3.3.1 "SEG.*" variables), the 4-tuple that
// names a connection, and the sink segments go out through. The connection
// never sees IP headers, frames or devices: the Stack parses and builds those.

#include <compare>
#include <cstdint>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/tcp.hpp"

namespace tapstack::tcp {

// RFC 9293 3.4: a connection is named by the pair of sockets at its ends.
struct FourTuple {
  wire::Ipv4Address local_ip;
  std::uint16_t local_port = 0;
  wire::Ipv4Address remote_ip;
  std::uint16_t remote_port = 0;

  bool operator==(const FourTuple&) const = default;
  // An arbitrary total order, for std::map.
  auto key() const {
    return (std::uint64_t{remote_ip.value} << 32) | (std::uint64_t{remote_port} << 16) | local_port;
  }
  bool operator<(const FourTuple& o) const {
    return key() < o.key() || (key() == o.key() && local_ip.value < o.local_ip.value);
  }
};

// An arriving segment, checksum verified and options parsed.
struct Segment {
  SeqNum seq;
  SeqNum ack;
  wire::TcpFlags flags;
  std::uint16_t window = 0;              // as on the wire (unscaled)
  std::optional<std::uint16_t> mss;      // RFC 9293 3.2 / RFC 6691 (meaningful on SYN only)
  std::optional<std::uint8_t> window_scale;  // RFC 7323 2.2 (SYN only)
  Bytes payload;

  bool has(wire::TcpFlags f) const { return flags.has(f); }
  // SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 3.4).
  SeqLen len() const {
    return SeqLen{static_cast<std::uint32_t>(payload.size()) + (has(wire::TcpFlags::Syn) ? 1U : 0U) +
                  (has(wire::TcpFlags::Fin) ? 1U : 0U)};
  }
};

// Where a connection's segments go. `header` has ports, numbers, flags, window
// and options filled in, payload_len set; the payload is first + second (two
// slices of the send buffer's ring, copied once into the frame).
class SegmentOutput {
 public:
  virtual void send_segment(const FourTuple& tuple, const wire::TcpRepr& header, Bytes first, Bytes second) = 0;

 protected:
  ~SegmentOutput() = default;
};

}  // namespace tapstack::tcp
