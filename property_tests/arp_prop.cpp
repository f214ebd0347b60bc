// Round trips for ARP packets: parse(emit(r)) == r for arbitrary reprs.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "stack/wire/arp.hpp"

namespace tapstack::wire {

RC_GTEST_PROP(ArpProp, ParseOfEmitIsIdentity, ()) {
  ArpRepr repr;
  repr.operation = static_cast<ArpOperation>(*rc::gen::arbitrary<std::uint16_t>());
  repr.sender_mac.octets = *rc::gen::arbitrary<std::array<std::uint8_t, 6>>();
  repr.sender_ip.value = *rc::gen::arbitrary<std::uint32_t>();
  repr.target_mac.octets = *rc::gen::arbitrary<std::array<std::uint8_t, 6>>();
  repr.target_ip.value = *rc::gen::arbitrary<std::uint32_t>();
  // Trailing padding, as on a minimum-size Ethernet frame, must not matter.
  const auto padding = *rc::gen::inRange<std::size_t>(0, 19);
  ByteVector out(ArpRepr::buffer_len() + padding, std::byte{0xa5});
  repr.emit(out);
  auto view = ArpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(ArpRepr::parse(*view) == repr);
}

RC_GTEST_PROP(ArpProp, EveryProperPrefixIsTruncated, ()) {
  ArpRepr repr;
  repr.sender_ip.value = *rc::gen::arbitrary<std::uint32_t>();
  ByteVector out(ArpRepr::buffer_len());
  repr.emit(out);
  const auto len = *rc::gen::inRange<std::size_t>(0, ArpRepr::buffer_len());
  auto view = ArpView::parse(as_bytes(out).first(len));
  RC_ASSERT(!view.ok());
  RC_ASSERT(view.error() == Error::Truncated);
}

}  // namespace tapstack::wire
