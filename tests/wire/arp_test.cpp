#include "stack/wire/arp.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tapstack::wire {
namespace {

// A Linux kernel ARP request (who-has 10.0.0.2 tell 10.0.0.1): the target
// hardware address is left zero.
const ByteVector kRequest = bytes_from_hex(
    "0001 0800 06 04 0001 525400123456 0a000001 000000000000 0a000002");

// The reply (10.0.0.2 is-at 02:00:0a:00:00:02) as it arrives off a wire:
// padded with 18 zero bytes to the 60-byte Ethernet minimum frame.
const ByteVector kReplyPadded = bytes_from_hex(
    "0001 0800 06 04 0002 02000a000002 0a000002 525400123456 0a000001"
    "000000000000000000000000000000000000");

constexpr Ipv4Address kHost1 = Ipv4Address::from_octets(10, 0, 0, 1);
constexpr Ipv4Address kHost2 = Ipv4Address::from_octets(10, 0, 0, 2);
constexpr MacAddress kMac1{{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
constexpr MacAddress kMac2{{0x02, 0x00, 0x0a, 0x00, 0x00, 0x02}};

TEST(ArpView, ParsesKernelRequest) {
  auto view = ArpView::parse(as_bytes(kRequest));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->hardware_type(), 1);
  EXPECT_EQ(view->protocol_type(), 0x0800);
  EXPECT_EQ(view->hardware_len(), 6);
  EXPECT_EQ(view->protocol_len(), 4);
  EXPECT_EQ(view->operation(), ArpOperation::Request);
  EXPECT_EQ(view->sender_mac(), kMac1);
  EXPECT_EQ(view->sender_ip(), kHost1);
  EXPECT_EQ(view->target_mac(), MacAddress{});
  EXPECT_EQ(view->target_ip(), kHost2);
}

TEST(ArpView, ParsesPaddedReplyAndIgnoresPadding) {
  auto view = ArpView::parse(as_bytes(kReplyPadded));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->operation(), ArpOperation::Reply);
  EXPECT_EQ(view->sender_mac(), kMac2);
  EXPECT_EQ(view->sender_ip(), kHost2);
  EXPECT_EQ(view->target_mac(), kMac1);
  EXPECT_EQ(view->target_ip(), kHost1);
  EXPECT_EQ(view->bytes().size(), ArpView::kPacketLen);
}

TEST(ArpView, UnknownOperationIsKept) {
  ByteVector packet = kRequest;
  packet[7] = std::byte{3};  // RARP request (RFC 903)
  auto view = ArpView::parse(as_bytes(packet));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(static_cast<std::uint16_t>(view->operation()), 3);
  EXPECT_EQ(static_cast<std::uint16_t>(ArpRepr::parse(*view).operation), 3);
}

TEST(ArpView, ShorterThanFixedPartIsTruncated) {
  const ByteVector packet(kRequest.begin(), kRequest.begin() + 7);
  auto view = ArpView::parse(as_bytes(packet));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(ArpView, CutShortInTheAddressesIsTruncated) {
  const ByteVector packet(kRequest.begin(), kRequest.end() - 1);
  auto view = ArpView::parse(as_bytes(packet));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(ArpView, EmptyIsTruncated) {
  auto view = ArpView::parse(Bytes{});
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

// Each of hrd, pro, hln, pln other than Ethernet/IPv4 is Unsupported.
struct UnsupportedCase {
  std::size_t at;
  std::uint8_t value;
};

class ArpUnsupported : public testing::TestWithParam<UnsupportedCase> {};

TEST_P(ArpUnsupported, IsRejected) {
  ByteVector packet = kRequest;
  packet[GetParam().at] = std::byte{GetParam().value};
  auto view = ArpView::parse(as_bytes(packet));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Unsupported);
}

INSTANTIATE_TEST_SUITE_P(Fields, ArpUnsupported,
                         testing::Values(UnsupportedCase{1, 6},      // hrd IEEE 802 networks
                                         UnsupportedCase{0, 1},      // hrd 0x0101
                                         UnsupportedCase{2, 0x86},   // pro 0x8600
                                         UnsupportedCase{3, 0xdd},   // pro 0x08dd
                                         UnsupportedCase{4, 8},      // hln 8
                                         UnsupportedCase{5, 16}));   // pln 16 (IPv6 length)

TEST(ArpView, UnsupportedIsReportedEvenWhenShort) {
  // An ARP for another hardware type may legitimately be shorter than 28
  // bytes; it is not "truncated", it is not ours.
  ByteVector packet = bytes_from_hex("0006 0800 06 04 0001 525400123456");
  auto view = ArpView::parse(as_bytes(packet));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Unsupported);
}

TEST(ArpRepr, ParsesRequest) {
  auto view = ArpView::parse(as_bytes(kRequest));
  ASSERT_TRUE(view.ok());
  const ArpRepr repr = ArpRepr::parse(*view);
  EXPECT_EQ(repr, (ArpRepr{ArpOperation::Request, kMac1, kHost1, MacAddress{}, kHost2}));
}

TEST(ArpRepr, EmitWritesEveryField) {
  ByteVector out(ArpRepr::buffer_len(), std::byte{0xa5});
  const ArpRepr repr{ArpOperation::Reply, kMac2, kHost2, kMac1, kHost1};
  repr.emit(out);
  EXPECT_EQ(out, ByteVector(kReplyPadded.begin(), kReplyPadded.begin() + 28));
}

TEST(ArpRepr, EmitWritesOnlyItsBytes) {
  ByteVector out(40, std::byte{0xa5});
  const ArpRepr repr{ArpOperation::Request, kMac1, kHost1, MacAddress{}, kHost2};
  repr.emit(out);
  EXPECT_TRUE(std::equal(kRequest.begin(), kRequest.end(), out.begin()));
  EXPECT_TRUE(std::all_of(out.begin() + 28, out.end(), [](std::byte b) { return b == std::byte{0xa5}; }));
}

TEST(ArpRepr, RoundTripsCapturedPackets) {
  for (const ByteVector* packet : {&kRequest, &kReplyPadded}) {
    auto view = ArpView::parse(as_bytes(*packet));
    ASSERT_TRUE(view.ok());
    ByteVector out(ArpRepr::buffer_len(), std::byte{0xa5});
    ArpRepr::parse(*view).emit(out);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), packet->begin()));
  }
}

}  // namespace
}  // namespace tapstack::wire
