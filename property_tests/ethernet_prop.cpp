// Round trips for Ethernet headers: parse(emit(r)) == r for arbitrary reprs.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "stack/wire/ethernet.hpp"

namespace tapstack::wire {

RC_GTEST_PROP(EthernetProp, ParseOfEmitIsIdentity, ()) {
  EthernetRepr repr;
  repr.destination.octets = *rc::gen::arbitrary<std::array<std::uint8_t, 6>>();
  repr.source.octets = *rc::gen::arbitrary<std::array<std::uint8_t, 6>>();
  // 0x8100 as the payload type of an untagged frame would read as a tag.
  repr.ethertype = static_cast<EtherType>(
      *rc::gen::suchThat<std::uint16_t>([](std::uint16_t t) { return t != 0x8100; }));
  if (*rc::gen::arbitrary<bool>()) {
    repr.vlan_tci = *rc::gen::arbitrary<std::uint16_t>();
  }
  ByteVector out(repr.header_len());
  repr.emit(out);
  auto view = EthernetView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(EthernetRepr::parse(*view) == repr);
}

}  // namespace tapstack::wire
