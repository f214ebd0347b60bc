#include "stack/wire/ethernet.hpp"

namespace tapstack::wire {

namespace field {
constexpr std::size_t kDestination = 0;
constexpr std::size_t kSource = 6;
constexpr std::size_t kType = 12;
constexpr std::size_t kVlanTci = 14;
constexpr std::size_t kInnerType = 16;
}  // namespace field

Result<EthernetView, Error> EthernetView::parse(Bytes frame) {
  if (frame.size() < kHeaderLen) {
    return fail(Error::Truncated);
  }
  const bool tagged = static_cast<EtherType>(load_be16(frame, field::kType)) == EtherType::Vlan;
  if (tagged && frame.size() < kHeaderLen + kVlanTagLen) {
    return fail(Error::Truncated);
  }
  return EthernetView(frame, tagged);
}

std::optional<std::uint16_t> EthernetView::vlan_tci() const {
  if (!tagged_) {
    return std::nullopt;
  }
  return load_be16(bytes_, field::kVlanTci);
}

EthernetRepr EthernetRepr::parse(const EthernetView& view) {
  return EthernetRepr{view.destination(), view.source(), view.ethertype(), view.vlan_tci()};
}

void EthernetRepr::emit(MutableBytes out) const {
  destination.store(out, field::kDestination);
  source.store(out, field::kSource);
  if (vlan_tci) {
    store_be16(out, field::kType, static_cast<std::uint16_t>(EtherType::Vlan));
    store_be16(out, field::kVlanTci, *vlan_tci);
    store_be16(out, field::kInnerType, static_cast<std::uint16_t>(ethertype));
  } else {
    store_be16(out, field::kType, static_cast<std::uint16_t>(ethertype));
  }
}

}  // namespace tapstack::wire
