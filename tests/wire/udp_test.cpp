#include "stack/wire/udp.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tapstack::wire {
namespace {

const Ipv4Address kClient = Ipv4Address::from_octets(127, 0, 0, 1);
const Ipv4Address kServer = Ipv4Address::from_octets(127, 0, 0, 2);

// A DNS query for example.com A sent by Linux from 127.0.0.1:39110 to
// 127.0.0.2:40053 (captured on lo; the checksum, left partial by loopback
// offload, filled in as the wire would carry it).
const ByteVector kDnsQuery = bytes_from_hex(
    "98c6 9c75 0025 e2cb"
    "1a2b 0100 0001 0000 0000 0000 0765 7861 6d70 6c65 0363 6f6d 0000 0100 01");

// Linux with SO_NO_CHECK set: 127.0.0.1:47942 -> 127.0.0.2:40054, checksum
// field 0, payload "no checksum".
const ByteVector kNoChecksum = bytes_from_hex("bb46 9c76 0013 0000 6e6f 2063 6865 636b 7375 6d");

UdpView view_of(const ByteVector& bytes) {
  auto view = UdpView::parse(as_bytes(bytes));
  EXPECT_TRUE(view.ok());
  return *view;
}

TEST(UdpView, ParsesCapturedDnsQuery) {
  const UdpView view = view_of(kDnsQuery);
  EXPECT_EQ(view.source_port(), 39110);
  EXPECT_EQ(view.destination_port(), 40053);
  EXPECT_EQ(view.length(), 37);
  EXPECT_EQ(view.checksum(), 0xe2cb);
  EXPECT_TRUE(view.has_checksum());
  ASSERT_EQ(view.payload().size(), 29u);
  EXPECT_EQ(view.payload()[0], std::byte{0x1a});
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
}

TEST(UdpView, ChecksumCoversThePseudoHeader) {
  const UdpView view = view_of(kDnsQuery);
  EXPECT_FALSE(view.verify_checksum(kClient, Ipv4Address::from_octets(127, 0, 0, 3)));
  EXPECT_FALSE(view.verify_checksum(Ipv4Address::from_octets(10, 0, 0, 1), kServer));
}

TEST(UdpView, TruncatedHeaderIsAnError) {
  const ByteVector bytes(kDnsQuery.begin(), kDnsQuery.begin() + 7);
  auto view = UdpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(UdpView, LengthFieldBelowHeaderIsBadLength) {
  ByteVector bytes = kDnsQuery;
  bytes[4] = std::byte{0x00};
  bytes[5] = std::byte{0x07};
  auto view = UdpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::BadLength);
}

TEST(UdpView, LengthFieldBeyondBufferIsBadLength) {
  const ByteVector bytes(kDnsQuery.begin(), kDnsQuery.end() - 1);  // field still says 37
  auto view = UdpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::BadLength);
}

TEST(UdpView, TrailingBytesBeyondLengthAreIgnored) {
  ByteVector padded = kDnsQuery;
  padded.insert(padded.end(), 5, std::byte{0xee});  // e.g. Ethernet minimum-frame padding
  const UdpView view = view_of(padded);
  EXPECT_EQ(view.bytes().size(), 37u);
  EXPECT_EQ(view.payload().size(), 29u);
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
}

TEST(UdpView, HeaderOnlyDatagramHasEmptyPayload) {
  const ByteVector bytes = bytes_from_hex("0035 0035 0008 0000");
  const UdpView view = view_of(bytes);
  EXPECT_TRUE(view.payload().empty());
}

TEST(UdpView, ZeroChecksumMeansNoneAndIsNotVerified) {
  ByteVector bytes = kNoChecksum;
  const UdpView view = view_of(bytes);
  EXPECT_FALSE(view.has_checksum());
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
  bytes.back() = std::byte{0x00};  // corruption cannot be detected without a checksum
  EXPECT_TRUE(view_of(bytes).verify_checksum(kClient, kServer));
}

TEST(UdpRepr, ParsesCapturedDnsQuery) {
  auto repr = UdpRepr::parse(view_of(kDnsQuery), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_TRUE(repr.ok());
  EXPECT_EQ(*repr, (UdpRepr{39110, 40053, 29, true}));
}

TEST(UdpRepr, CorruptPayloadIsBadChecksum) {
  ByteVector bytes = kDnsQuery;
  bytes[20] ^= std::byte{0x01};
  auto repr = UdpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_FALSE(repr.ok());
  EXPECT_EQ(repr.error(), Error::BadChecksum);
}

TEST(UdpRepr, SkipAcceptsABadChecksum) {
  ByteVector bytes = kDnsQuery;
  bytes[6] = std::byte{0x12};
  auto repr = UdpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Skip);
  ASSERT_TRUE(repr.ok());
  EXPECT_EQ(repr->payload_len, 29u);
}

TEST(UdpRepr, ZeroChecksumDatagramParsesWithoutChecksum) {
  auto repr = UdpRepr::parse(view_of(kNoChecksum), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_TRUE(repr.ok());
  EXPECT_FALSE(repr->has_checksum);
  EXPECT_EQ(repr->payload_len, 11u);
}

// emit writes the header and checksum around a payload already in place.
ByteVector emit_with_payload(const UdpRepr& repr, Bytes payload, Ipv4Address src, Ipv4Address dst) {
  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  std::ranges::copy(payload, out.begin() + static_cast<std::ptrdiff_t>(repr.header_len()));
  repr.emit(out, src, dst);
  return out;
}

TEST(UdpRepr, EmitWritesEveryField) {
  const UdpRepr repr{39110, 40053, 29, true};
  const ByteVector out =
      emit_with_payload(repr, as_bytes(kDnsQuery).subspan(UdpView::kHeaderLen), kClient, kServer);
  EXPECT_EQ(out, kDnsQuery);
}

TEST(UdpRepr, EmitWithoutChecksumWritesZero) {
  const UdpRepr repr{47942, 40054, 11, false};
  const ByteVector out =
      emit_with_payload(repr, as_bytes(kNoChecksum).subspan(UdpView::kHeaderLen), kClient, kServer);
  EXPECT_EQ(out, kNoChecksum);
}

TEST(UdpRepr, ComputedZeroChecksumIsSentAsAllOnes) {
  // Payload f61e makes the ones' complement sum 0xffff, so the checksum
  // computes to 0 and RFC 768 sends it as ffff.
  const UdpRepr repr{1000, 2000, 2, true};
  const ByteVector payload = bytes_from_hex("f61e");
  const ByteVector out = emit_with_payload(repr, as_bytes(payload), kClient, kServer);
  EXPECT_EQ(out, bytes_from_hex("03e8 07d0 000a ffff f61e"));
  const UdpView view = view_of(out);
  EXPECT_TRUE(view.has_checksum());
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
  auto again = UdpRepr::parse(view, kClient, kServer, ChecksumCheck::Verify);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, repr);
}

TEST(UdpRepr, EmitIgnoresBytesBeyondTheDatagram) {
  const UdpRepr repr{39110, 40053, 29, true};
  ByteVector out(repr.buffer_len() + 3, std::byte{0xa5});
  std::ranges::copy(as_bytes(kDnsQuery).subspan(8), out.begin() + 8);
  repr.emit(out, kClient, kServer);
  EXPECT_TRUE(std::equal(kDnsQuery.begin(), kDnsQuery.end(), out.begin()));
  EXPECT_EQ(out.back(), std::byte{0xa5});
}

TEST(UdpRepr, RoundTripsCapturedDatagrams) {
  for (const ByteVector* bytes : {&kDnsQuery, &kNoChecksum}) {
    const UdpView view = view_of(*bytes);
    auto repr = UdpRepr::parse(view, kClient, kServer, ChecksumCheck::Verify);
    ASSERT_TRUE(repr.ok());
    EXPECT_EQ(emit_with_payload(*repr, view.payload(), kClient, kServer), *bytes);
  }
}

}  // namespace
}  // namespace tapstack::wire
