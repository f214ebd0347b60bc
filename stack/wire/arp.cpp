#include "stack/wire/arp.hpp"

#include <cstdlib>

namespace tapstack::wire {

namespace {
namespace field {
constexpr std::size_t kHardwareType = 0;
constexpr std::size_t kProtocolType = 2;
constexpr std::size_t kHardwareLen = 4;
constexpr std::size_t kProtocolLen = 5;
constexpr std::size_t kOperation = 6;
constexpr std::size_t kSenderMac = 8;
constexpr std::size_t kSenderIp = 14;
constexpr std::size_t kTargetMac = 18;
constexpr std::size_t kTargetIp = 24;
// The part every ARP packet has, whatever its address spaces.
constexpr std::size_t kFixedLen = 8;
}  // namespace field
}  // namespace

Result<ArpView, Error> ArpView::parse(Bytes packet) {
  if (packet.size() < field::kFixedLen) {
    return fail(Error::Truncated);
  }
  // RFC 826 "Packet Reception": a packet whose ar$hrd or ar$pro we do not
  // speak is discarded; hln/pln must then match those spaces, or the address
  // fields would be read at the wrong offsets.
  if (load_be16(packet, field::kHardwareType) != kHardwareEthernet ||
      load_be16(packet, field::kProtocolType) != kProtocolIpv4 ||
      load_u8(packet, field::kHardwareLen) != kHardwareLen || load_u8(packet, field::kProtocolLen) != kProtocolLen) {
    return fail(Error::Unsupported);
  }
  if (packet.size() < kPacketLen) {
    return fail(Error::Truncated);
  }
  return ArpView(packet.first(kPacketLen));
}

std::uint16_t ArpView::hardware_type() const { return load_be16(bytes_, field::kHardwareType); }
std::uint16_t ArpView::protocol_type() const { return load_be16(bytes_, field::kProtocolType); }
std::uint8_t ArpView::hardware_len() const { return load_u8(bytes_, field::kHardwareLen); }
std::uint8_t ArpView::protocol_len() const { return load_u8(bytes_, field::kProtocolLen); }
ArpOperation ArpView::operation() const { return static_cast<ArpOperation>(load_be16(bytes_, field::kOperation)); }
MacAddress ArpView::sender_mac() const { return MacAddress::load(bytes_, field::kSenderMac); }
Ipv4Address ArpView::sender_ip() const { return Ipv4Address::load(bytes_, field::kSenderIp); }
MacAddress ArpView::target_mac() const { return MacAddress::load(bytes_, field::kTargetMac); }
Ipv4Address ArpView::target_ip() const { return Ipv4Address::load(bytes_, field::kTargetIp); }

ArpRepr ArpRepr::parse(const ArpView& view) {
  return ArpRepr{view.operation(), view.sender_mac(), view.sender_ip(), view.target_mac(), view.target_ip()};
}

void ArpRepr::emit(MutableBytes out) const {
  if (out.size() < buffer_len()) {
    std::abort();  // a programmer error: the caller sizes the buffer
  }
  store_be16(out, field::kHardwareType, ArpView::kHardwareEthernet);
  store_be16(out, field::kProtocolType, ArpView::kProtocolIpv4);
  store_u8(out, field::kHardwareLen, ArpView::kHardwareLen);
  store_u8(out, field::kProtocolLen, ArpView::kProtocolLen);
  store_be16(out, field::kOperation, static_cast<std::uint16_t>(operation));
  sender_mac.store(out, field::kSenderMac);
  sender_ip.store(out, field::kSenderIp);
  target_mac.store(out, field::kTargetMac);
  target_ip.store(out, field::kTargetIp);
}

}  // namespace tapstack::wire
