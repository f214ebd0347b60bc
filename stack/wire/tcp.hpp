#pragma once
// The TCP header (RFC 9293 3.1) over IPv4, with its options (tcp_options.hpp)
// and the checksum over the IPv4 pseudo header.
//
// Emitting is zero-copy, as for UDP: the caller sizes the buffer with
// repr.buffer_len(), places the payload at out[repr.header_len() ...], and
// repr.emit(out, src, dst) writes header, options, padding and checksum.

#include <cstdint>
#include <string>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/error.hpp"
#include "stack/wire/tcp_options.hpp"

namespace tapstack::wire {

// The nine control bits as they sit in the low 9 bits of header bytes 12-13
// (RFC 9293 3.1; AE is the bit RFC 3540 called NS, reserved by RFC 8311 and
// used by Accurate ECN). Combine with |, test with has() / any().
class TcpFlags {
 public:
  static const TcpFlags Fin;
  static const TcpFlags Syn;
  static const TcpFlags Rst;
  static const TcpFlags Psh;
  static const TcpFlags Ack;
  static const TcpFlags Urg;
  static const TcpFlags Ece;
  static const TcpFlags Cwr;
  static const TcpFlags Ae;
  static constexpr std::uint16_t kMask = 0x1ff;

  constexpr TcpFlags() = default;
  // Bits outside kMask are dropped.
  constexpr explicit TcpFlags(std::uint16_t bits) : bits_(bits & kMask) {}

  constexpr std::uint16_t bits() const { return bits_; }
  constexpr bool empty() const { return bits_ == 0; }
  // Every flag of `f` is set.
  constexpr bool has(TcpFlags f) const { return (bits_ & f.bits_) == f.bits_; }
  // At least one flag of `f` is set.
  constexpr bool any(TcpFlags f) const { return (bits_ & f.bits_) != 0; }

  constexpr TcpFlags operator|(TcpFlags o) const { return TcpFlags(static_cast<std::uint16_t>(bits_ | o.bits_)); }
  constexpr TcpFlags operator&(TcpFlags o) const { return TcpFlags(static_cast<std::uint16_t>(bits_ & o.bits_)); }
  constexpr TcpFlags without(TcpFlags o) const { return TcpFlags(static_cast<std::uint16_t>(bits_ & ~o.bits_)); }
  constexpr TcpFlags& operator|=(TcpFlags o) { return *this = *this | o; }

  // "SYN|ACK", "FIN|PSH|ACK", ...: SYN, FIN, RST, PSH, ACK, URG, ECE, CWR, AE
  // in that order; "none" when no bit is set.
  std::string to_string() const;

  constexpr bool operator==(const TcpFlags&) const = default;

 private:
  std::uint16_t bits_ = 0;
};

inline constexpr TcpFlags TcpFlags::Fin{0x001};
inline constexpr TcpFlags TcpFlags::Syn{0x002};
inline constexpr TcpFlags TcpFlags::Rst{0x004};
inline constexpr TcpFlags TcpFlags::Psh{0x008};
inline constexpr TcpFlags TcpFlags::Ack{0x010};
inline constexpr TcpFlags TcpFlags::Urg{0x020};
inline constexpr TcpFlags TcpFlags::Ece{0x040};
inline constexpr TcpFlags TcpFlags::Cwr{0x080};
inline constexpr TcpFlags TcpFlags::Ae{0x100};

class TcpView {
 public:
  static constexpr std::size_t kHeaderLen = 20;
  static constexpr std::size_t kMaxHeaderLen = 60;  // data offset 15

  // Errors: Truncated (fewer than 20 bytes), BadDataOffset (data offset
  // below 5 words, or a header longer than the segment). `segment` is the
  // whole segment, exactly as the IP layer bounded it: the bytes after the
  // header are the payload.
  static Result<TcpView, Error> parse(Bytes segment);

  std::uint16_t source_port() const;
  std::uint16_t destination_port() const;
  std::uint32_t seq_number() const;
  std::uint32_t ack_number() const;
  // The data offset field, in 32-bit words.
  std::uint8_t data_offset() const;
  std::size_t header_len() const { return std::size_t{data_offset()} * 4; }
  // The three reserved bits above the AE bit (RFC 9293 3.1), 0 to 7.
  std::uint8_t reserved() const;
  TcpFlags flags() const;
  std::uint16_t window() const;
  std::uint16_t checksum() const;
  std::uint16_t urgent_pointer() const;
  // The option space, padding included: header_len() - 20 bytes.
  Bytes options() const { return bytes_.subspan(kHeaderLen, header_len() - kHeaderLen); }
  Bytes payload() const { return bytes_.subspan(header_len()); }
  Bytes bytes() const { return bytes_; }

  // The checksum over the pseudo header and the segment verifies (RFC 9293
  // MUST-3). False for a segment too long for the pseudo header's 16-bit
  // length, which IPv4 cannot carry.
  bool verify_checksum(Ipv4Address source, Ipv4Address destination) const;

 private:
  explicit TcpView(Bytes segment) : bytes_(segment) {}
  Bytes bytes_;
};

struct TcpRepr {
  std::uint16_t source_port = 0;
  std::uint16_t destination_port = 0;
  std::uint32_t seq_number = 0;
  std::uint32_t ack_number = 0;
  TcpFlags flags;
  std::uint8_t reserved = 0;  // 0 to 7; sent as received so round trips are exact
  std::uint16_t window = 0;
  std::uint16_t urgent_pointer = 0;
  // Emitted as they are, then zero padded to a 32-bit boundary; so
  // parse(emit(r)) == r needs options.size() % 4 == 0 (TcpOptions::pad()).
  TcpOptions options;
  std::size_t payload_len = 0;

  // Checks the checksum first (with ChecksumCheck::Verify; BadChecksum),
  // then the options (BadOptionLength, BadOption).
  static Result<TcpRepr, Error> parse(const TcpView& view, Ipv4Address source, Ipv4Address destination,
                                      ChecksumCheck check);

  std::size_t header_len() const { return TcpView::kHeaderLen + options.padded_size(); }
  std::size_t buffer_len() const { return header_len() + payload_len; }

  // Writes header, options and padding into out[0, header_len()) and the
  // checksum over the pseudo header and out[0, buffer_len()), whose payload
  // the caller has already placed at out[header_len(), buffer_len()). out
  // must hold at least buffer_len() bytes; buffer_len() must fit the pseudo
  // header's 16-bit length.
  void emit(MutableBytes out, Ipv4Address source, Ipv4Address destination) const;

  bool operator==(const TcpRepr&) const = default;
};

}  // namespace tapstack::wire
