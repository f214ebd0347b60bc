#pragma once
// ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses only: the
// one combination a TAP device carries. Any other hardware or protocol space
// is reported as Error::Unsupported rather than mis-read.

#include <cstddef>
#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/error.hpp"

namespace tapstack::wire {

// ar$op. Unknown values are kept (RFC 5494 lists many more, e.g. RARP).
enum class ArpOperation : std::uint16_t {
  Request = 1,
  Reply = 2,
};

class ArpView {
 public:
  // RFC 826 "Packet format" with hlen 6 and plen 4: 8 fixed bytes plus two
  // (hardware, protocol) address pairs.
  static constexpr std::size_t kPacketLen = 28;
  static constexpr std::uint16_t kHardwareEthernet = 1;  // ares_hrd$Ethernet
  static constexpr std::uint16_t kProtocolIpv4 = 0x0800;  // ether_type$DOD_INTERNET
  static constexpr std::uint8_t kHardwareLen = 6;
  static constexpr std::uint8_t kProtocolLen = 4;

  // Truncated if the fixed part or the addresses are cut short; Unsupported
  // for any (hrd, pro, hln, pln) but (1, 0x0800, 6, 4). Bytes after the 28
  // (Ethernet minimum-frame padding) are allowed and ignored.
  static Result<ArpView, Error> parse(Bytes packet);

  std::uint16_t hardware_type() const;
  std::uint16_t protocol_type() const;
  std::uint8_t hardware_len() const;
  std::uint8_t protocol_len() const;
  ArpOperation operation() const;
  MacAddress sender_mac() const;
  Ipv4Address sender_ip() const;
  MacAddress target_mac() const;
  Ipv4Address target_ip() const;
  // The 28 bytes of the packet, without any padding that followed it.
  Bytes bytes() const { return bytes_; }

 private:
  explicit ArpView(Bytes packet) : bytes_(packet) {}
  Bytes bytes_;
};

struct ArpRepr {
  ArpOperation operation = ArpOperation::Request;
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;  // all zero in a request (RFC 826 leaves it "if known")
  Ipv4Address target_ip;

  // Nothing can fail once the view has checked the address spaces.
  static ArpRepr parse(const ArpView& view);
  static constexpr std::size_t buffer_len() { return ArpView::kPacketLen; }
  // Writes buffer_len() bytes into out[0, 28); out must be at least that long.
  void emit(MutableBytes out) const;

  bool operator==(const ArpRepr&) const = default;
};

}  // namespace tapstack::wire
