#include "stack/wire/ethernet.hpp"

#include <gtest/gtest.h>

namespace tapstack::wire {
namespace {

// An ARP request from a Linux host (captured), Ethernet header first.
const ByteVector kArpFrame = bytes_from_hex(
    "ff ff ff ff ff ff 02 00 0a 00 00 01 08 06"
    "00 01 08 00 06 04 00 01 02 00 0a 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");

TEST(EthernetView, ParsesAddressesAndType) {
  auto view = EthernetView::parse(as_bytes(kArpFrame));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->destination().is_broadcast());
  EXPECT_EQ(view->source().to_string(), "02:00:0a:00:00:01");
  EXPECT_EQ(view->ethertype(), EtherType::Arp);
  EXPECT_FALSE(view->vlan_tci().has_value());
  EXPECT_EQ(view->payload().size(), kArpFrame.size() - 14);
}

TEST(EthernetView, SkipsOneVlanTag) {
  const ByteVector tagged = bytes_from_hex("ff ff ff ff ff ff 02 00 0a 00 00 01 81 00 20 07 08 00 45");
  auto view = EthernetView::parse(as_bytes(tagged));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->ethertype(), EtherType::Ipv4);
  EXPECT_EQ(view->vlan_tci(), 0x2007);
  EXPECT_EQ(view->header_len(), 18u);
  ASSERT_EQ(view->payload().size(), 1u);
}

TEST(EthernetView, TruncatedHeaderIsAnError) {
  const ByteVector short_frame(13, std::byte{0});
  auto view = EthernetView::parse(as_bytes(short_frame));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(EthernetView, TruncatedVlanTagIsAnError) {
  const ByteVector tagged = bytes_from_hex("ff ff ff ff ff ff 02 00 0a 00 00 01 81 00 20");
  auto view = EthernetView::parse(as_bytes(tagged));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(EthernetView, UnknownEtherTypeIsKept) {
  ByteVector frame = kArpFrame;
  frame[12] = std::byte{0x88};
  frame[13] = std::byte{0xb5};  // local experimental
  auto view = EthernetView::parse(as_bytes(frame));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(static_cast<std::uint16_t>(view->ethertype()), 0x88b5);
}

TEST(EthernetRepr, EmitWritesEveryField) {
  // Pre-fill with a pattern so a field emit forgot shows up.
  ByteVector out(18, std::byte{0xa5});
  const EthernetRepr repr{MacAddress{{1, 2, 3, 4, 5, 6}}, MacAddress{{7, 8, 9, 10, 11, 12}}, EtherType::Ipv4, 0x0123};
  repr.emit(out);
  EXPECT_EQ(out, bytes_from_hex("010203040506 0708090a0b0c 8100 0123 0800"));
}

TEST(EthernetRepr, RoundTripsCapturedFrame) {
  auto view = EthernetView::parse(as_bytes(kArpFrame));
  ASSERT_TRUE(view.ok());
  const EthernetRepr repr = EthernetRepr::parse(*view);
  ByteVector out(repr.header_len());
  repr.emit(out);
  EXPECT_TRUE(std::equal(out.begin(), out.end(), kArpFrame.begin()));
}

}  // namespace
}  // namespace tapstack::wire
