#pragma once
// Ethernet II framing (IEEE 802.3 clause 3.2.6 "Length/Type" >= 0x0600), with
// one IEEE 802.1Q VLAN tag recognised and skipped. The FCS is not present:
// TAP devices hand over frames without it.
//
// The pattern every header in wire/ follows:
//   EthernetView::parse(bytes)  checks lengths once; afterwards no accessor
//                               can read out of bounds.
//   EthernetRepr::parse(view)   a validated host-order value.
//   repr.emit(out)              writes header_len() bytes into `out`.

#include <cstdint>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/error.hpp"

namespace tapstack::wire {

// Unknown values are kept: any 16-bit value is a valid EtherType here.
enum class EtherType : std::uint16_t {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  Vlan = 0x8100,  // IEEE 802.1Q tag protocol identifier
  Ipv6 = 0x86dd,
};

class EthernetView {
 public:
  static constexpr std::size_t kHeaderLen = 14;
  static constexpr std::size_t kVlanTagLen = 4;

  static Result<EthernetView, Error> parse(Bytes frame);

  MacAddress destination() const { return MacAddress::load(bytes_, 0); }
  MacAddress source() const { return MacAddress::load(bytes_, 6); }
  // The EtherType of the payload (after the VLAN tag, if there is one).
  EtherType ethertype() const { return static_cast<EtherType>(load_be16(bytes_, header_len() - 2)); }
  // Tag control information (PCP, DEI, VID) of the 802.1Q tag, if present.
  std::optional<std::uint16_t> vlan_tci() const;
  std::size_t header_len() const { return tagged_ ? kHeaderLen + kVlanTagLen : kHeaderLen; }
  Bytes payload() const { return bytes_.subspan(header_len()); }
  Bytes bytes() const { return bytes_; }

 private:
  EthernetView(Bytes frame, bool tagged) : bytes_(frame), tagged_(tagged) {}
  Bytes bytes_;
  bool tagged_;
};

struct EthernetRepr {
  MacAddress destination;
  MacAddress source;
  EtherType ethertype = EtherType::Ipv4;
  std::optional<std::uint16_t> vlan_tci;

  static EthernetRepr parse(const EthernetView& view);
  std::size_t header_len() const {
    return vlan_tci ? EthernetView::kHeaderLen + EthernetView::kVlanTagLen : EthernetView::kHeaderLen;
  }
  // Writes the header into out[0, header_len()); out must be at least that long.
  void emit(MutableBytes out) const;

  bool operator==(const EthernetRepr&) const = default;
};

}  // namespace tapstack::wire
