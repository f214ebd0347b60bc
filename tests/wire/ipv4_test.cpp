#include "stack/wire/ipv4.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {
namespace {

// An ICMP echo request as Linux `ping 10.0.0.2` sends it: DF set, TTL 64,
// 56 data bytes (a struct timeval, then 0x10..0x37). Checksums computed with
// python3 and cross-checked by the tests below.
const ByteVector kEchoRequest = bytes_from_hex(
    "45 00 00 54 3f 2a 40 00 40 01 e7 7c 0a 00 00 01 0a 00 00 02"
    "08 00 e5 88 0b 7e 00 01 c1 a3 50 66 00 00 00 00 2c 1b 0a 00 00 00 00 00"
    "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
    "28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37");

// The middle fragment of `ping -s 4000`: MF set, offset 185 * 8 = 1480,
// total length 1500. Only the header is written here; the payload is filled.
const ByteVector kFragmentHeader = bytes_from_hex("45 00 05 dc 5a 3b 20 b9 40 01 e6 2a 0a 00 00 01 0a 00 00 02");

// An IGMPv2 membership report from Linux for 224.0.0.251: TOS 0xc0, TTL 1,
// IHL 6 with the Router Alert option (RFC 2113), protocol 2 (not in IpProtocol).
const ByteVector kIgmpWithOption = bytes_from_hex(
    "46 c0 00 20 00 00 40 00 01 02 f9 1b 0a 00 00 01 e0 00 00 fb 94 04 00 00"
    "16 00 09 04 e0 00 00 fb");

ByteVector fragment_datagram() {
  ByteVector datagram = kFragmentHeader;
  for (std::size_t i = 0; i < 1480; ++i) {
    datagram.push_back(static_cast<std::byte>(i));
  }
  return datagram;
}

Error parse_error(const ByteVector& bytes) {
  auto view = Ipv4View::parse(as_bytes(bytes));
  EXPECT_FALSE(view.ok());
  return view.ok() ? Error::Truncated : view.error();
}

TEST(Ipv4View, ParsesPingEchoRequest) {
  auto view = Ipv4View::parse(as_bytes(kEchoRequest));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->version(), 4);
  EXPECT_EQ(view->header_len(), 20u);
  EXPECT_EQ(view->dscp(), 0);
  EXPECT_EQ(view->ecn(), 0);
  EXPECT_EQ(view->total_len(), 84);
  EXPECT_EQ(view->identification(), 0x3f2a);
  EXPECT_FALSE(view->reserved_flag());
  EXPECT_TRUE(view->dont_fragment());
  EXPECT_FALSE(view->more_fragments());
  EXPECT_EQ(view->fragment_offset(), 0);
  EXPECT_EQ(view->ttl(), 64);
  EXPECT_EQ(view->protocol(), IpProtocol::Icmp);
  EXPECT_EQ(view->header_checksum(), 0xe77c);
  EXPECT_EQ(view->source(), Ipv4Address::from_octets(10, 0, 0, 1));
  EXPECT_EQ(view->destination(), Ipv4Address::from_octets(10, 0, 0, 2));
  EXPECT_TRUE(view->options().empty());
  EXPECT_EQ(view->payload().size(), 64u);
  EXPECT_EQ(view->payload()[0], std::byte{0x08});
  EXPECT_TRUE(view->verify_checksum());
}

TEST(Ipv4View, ParsesFragmentWithMoreFragments) {
  const ByteVector datagram = fragment_datagram();
  auto view = Ipv4View::parse(as_bytes(datagram));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->more_fragments());
  EXPECT_FALSE(view->dont_fragment());
  EXPECT_EQ(view->fragment_offset(), 1480);
  EXPECT_EQ(view->identification(), 0x5a3b);
  EXPECT_EQ(view->payload().size(), 1480u);
  EXPECT_TRUE(view->verify_checksum());
}

TEST(Ipv4View, ParsesDscpEcnOptionsAndUnknownProtocol) {
  ByteVector datagram = kIgmpWithOption;
  auto view = Ipv4View::parse(as_bytes(datagram));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->dscp(), 0x30);  // CS6, network control
  EXPECT_EQ(view->ecn(), 0);
  EXPECT_EQ(view->header_len(), 24u);
  EXPECT_EQ(static_cast<std::uint8_t>(view->protocol()), 2);
  EXPECT_EQ(ByteVector(view->options().begin(), view->options().end()), bytes_from_hex("94 04 00 00"));
  EXPECT_EQ(view->payload().size(), 8u);
  EXPECT_EQ(view->payload()[0], std::byte{0x16});
  EXPECT_TRUE(view->verify_checksum());
}

TEST(Ipv4View, ReadsEcnAndReservedFlag) {
  ByteVector datagram = kEchoRequest;
  datagram[1] = std::byte{0xb9};  // DSCP 46 (EF), ECN 1 (ECT(1))
  datagram[6] = std::byte{0xc0};  // reserved + DF
  auto view = Ipv4View::parse(as_bytes(datagram));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->dscp(), 46);
  EXPECT_EQ(view->ecn(), 1);
  EXPECT_TRUE(view->reserved_flag());
  EXPECT_TRUE(view->dont_fragment());
  EXPECT_FALSE(view->verify_checksum());  // the header changed
}

TEST(Ipv4View, EthernetPaddingIsAllowedAndPayloadStopsAtTotalLength) {
  // A 32-byte datagram in a minimum-size Ethernet frame carries 14 bytes of padding.
  ByteVector padded = kIgmpWithOption;
  padded.resize(46, std::byte{0});
  auto view = Ipv4View::parse(as_bytes(padded));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->payload().size(), 8u);
  EXPECT_EQ(view->bytes().size(), 32u);
}

TEST(Ipv4View, ShorterThanMinimumHeaderIsTruncated) {
  EXPECT_EQ(parse_error(ByteVector(kEchoRequest.begin(), kEchoRequest.begin() + 19)), Error::Truncated);
  EXPECT_EQ(parse_error(ByteVector{}), Error::Truncated);
}

TEST(Ipv4View, VersionSixIsBadVersion) {
  ByteVector datagram = kEchoRequest;
  datagram[0] = std::byte{0x65};
  EXPECT_EQ(parse_error(datagram), Error::BadVersion);
}

TEST(Ipv4View, IhlBelowFiveIsBadHeaderLength) {
  ByteVector datagram = kEchoRequest;
  datagram[0] = std::byte{0x44};
  EXPECT_EQ(parse_error(datagram), Error::BadHeaderLength);
}

TEST(Ipv4View, IhlPastTheBufferIsBadHeaderLength) {
  // IHL 15 (60 bytes) over a 24-byte buffer.
  ByteVector datagram(kIgmpWithOption.begin(), kIgmpWithOption.begin() + 24);
  datagram[0] = std::byte{0x4f};
  EXPECT_EQ(parse_error(datagram), Error::BadHeaderLength);
}

TEST(Ipv4View, TotalLengthBelowHeaderIsBadTotalLength) {
  ByteVector datagram = kIgmpWithOption;
  datagram[3] = std::byte{20};  // header is 24
  EXPECT_EQ(parse_error(datagram), Error::BadTotalLength);
}

TEST(Ipv4View, TotalLengthBeyondBufferIsBadTotalLength) {
  const ByteVector datagram(kEchoRequest.begin(), kEchoRequest.end() - 1);
  EXPECT_EQ(parse_error(datagram), Error::BadTotalLength);
}

TEST(Ipv4View, FragmentEndingPast65535IsBadFragment) {
  // Offset 8191 * 8 = 65528 with 7 payload bytes ends at 65535 and fits;
  // 8 do not.
  ByteVector datagram = kEchoRequest;
  datagram.resize(27);
  datagram[2] = std::byte{0};
  datagram[3] = std::byte{27};
  datagram[6] = std::byte{0x1f};
  datagram[7] = std::byte{0xff};
  auto fits = Ipv4View::parse(as_bytes(datagram));
  ASSERT_TRUE(fits.ok());
  EXPECT_EQ(fits->fragment_offset(), 65528);

  datagram.push_back(std::byte{0});
  datagram[3] = std::byte{28};
  EXPECT_EQ(parse_error(datagram), Error::BadFragment);
}

TEST(Ipv4View, QuotedHeaderIgnoresTotalLength) {
  // The IP header and first 8 bytes of a 1500-byte TCP segment, as an ICMP
  // "fragmentation needed" quotes it.
  const ByteVector quote = bytes_from_hex(
      "45 00 05 dc 7d 10 40 00 3f 06 79 30 0a 00 00 01 5d b8 d8 22 a1 12 00 50 9a 3c 51 e7");
  EXPECT_EQ(parse_error(quote), Error::BadTotalLength);
  auto view = Ipv4View::parse_quoted(as_bytes(quote));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->total_len(), 1500);
  EXPECT_EQ(view->payload().size(), 8u);
  EXPECT_TRUE(view->verify_checksum());
}

TEST(Ipv4View, QuotedHeaderStillChecksItsOwnLength) {
  const ByteVector quote = bytes_from_hex("45 00 05 dc 7d 10 40 00 3f 06 79 30 0a 00 00 01 5d b8 d8");
  auto view = Ipv4View::parse_quoted(as_bytes(quote));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(Ipv4Repr, ParsesAllFields) {
  auto view = Ipv4View::parse(as_bytes(kIgmpWithOption));
  ASSERT_TRUE(view.ok());
  auto repr = Ipv4Repr::parse(*view, ChecksumCheck::Verify);
  ASSERT_TRUE(repr.ok());
  Ipv4Repr expected;
  expected.dscp = 0x30;
  expected.ecn = 0;
  expected.identification = 0;
  expected.dont_fragment = true;
  expected.ttl = 1;
  expected.protocol = static_cast<IpProtocol>(2);
  expected.source = Ipv4Address::from_octets(10, 0, 0, 1);
  expected.destination = Ipv4Address::from_octets(224, 0, 0, 251);
  expected.options = *Ipv4Options::from_bytes(as_bytes(bytes_from_hex("94 04 00 00")));
  expected.payload_len = 8;
  EXPECT_EQ(*repr, expected);
  EXPECT_EQ(repr->header_len(), 24u);
  EXPECT_EQ(repr->buffer_len(), 32u);
}

TEST(Ipv4Repr, WrongChecksumIsBadChecksumWhenVerifying) {
  ByteVector datagram = kEchoRequest;
  datagram[11] = std::byte{0x7d};
  auto view = Ipv4View::parse(as_bytes(datagram));
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->verify_checksum());
  auto verified = Ipv4Repr::parse(*view, ChecksumCheck::Verify);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), Error::BadChecksum);
  EXPECT_TRUE(Ipv4Repr::parse(*view, ChecksumCheck::Skip).ok());
}

TEST(Ipv4Options, RejectsLengthsNoIhlDescribes) {
  const ByteVector three(3, std::byte{1});
  auto odd = Ipv4Options::from_bytes(as_bytes(three));
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error(), Error::BadHeaderLength);
  const ByteVector too_long(44, std::byte{1});
  auto long_options = Ipv4Options::from_bytes(as_bytes(too_long));
  ASSERT_FALSE(long_options.ok());
  EXPECT_EQ(long_options.error(), Error::BadHeaderLength);
  const ByteVector forty(40, std::byte{1});
  ASSERT_TRUE(Ipv4Options::from_bytes(as_bytes(forty)).ok());
}

TEST(Ipv4Repr, EmitWritesEveryFieldAndTheChecksum) {
  Ipv4Repr repr;
  repr.dscp = 0;
  repr.ecn = 0;
  repr.identification = 0x3f2a;
  repr.dont_fragment = true;
  repr.ttl = 64;
  repr.protocol = IpProtocol::Icmp;
  repr.source = Ipv4Address::from_octets(10, 0, 0, 1);
  repr.destination = Ipv4Address::from_octets(10, 0, 0, 2);
  repr.payload_len = 64;
  ByteVector out(repr.header_len(), std::byte{0xa5});
  repr.emit(out);
  EXPECT_EQ(out, ByteVector(kEchoRequest.begin(), kEchoRequest.begin() + 20));
}

TEST(Ipv4Repr, EmitWritesOptionsAndEveryFlagBit) {
  Ipv4Repr repr;
  repr.dscp = 63;
  repr.ecn = 3;
  repr.identification = 0xffff;
  repr.reserved_flag = true;
  repr.dont_fragment = true;
  repr.more_fragments = true;
  repr.fragment_offset = 65528;
  repr.ttl = 255;
  repr.protocol = static_cast<IpProtocol>(255);
  repr.source = Ipv4Address::broadcast();
  repr.destination = Ipv4Address::broadcast();
  repr.options = *Ipv4Options::from_bytes(as_bytes(bytes_from_hex("01 01 01 00")));  // NOP NOP NOP EOL
  repr.payload_len = 7;
  ByteVector out(repr.header_len(), std::byte{0xa5});
  repr.emit(out);
  ByteVector expected = bytes_from_hex("46 ff 00 1f ff ff ff ff ff ff 00 00 ff ff ff ff ff ff ff ff 01 01 01 00");
  const std::uint16_t checksum = internet_checksum(as_bytes(expected));
  expected[10] = static_cast<std::byte>(checksum >> 8);
  expected[11] = static_cast<std::byte>(checksum & 0xff);
  EXPECT_EQ(out, expected);
}

TEST(Ipv4Repr, RoundTripsCapturedHeadersExactly) {
  ByteVector reserved = kEchoRequest;  // the "evil bit" (RFC 3514) must survive too
  reserved[6] = std::byte{0xc0};
  const std::uint16_t checksum = checksum_update(0xe77c, 0x4000, 0xc000);
  reserved[10] = static_cast<std::byte>(checksum >> 8);
  reserved[11] = static_cast<std::byte>(checksum & 0xff);
  for (const ByteVector& datagram : {kEchoRequest, fragment_datagram(), kIgmpWithOption, reserved}) {
    auto view = Ipv4View::parse(as_bytes(datagram));
    ASSERT_TRUE(view.ok());
    auto repr = Ipv4Repr::parse(*view, ChecksumCheck::Verify);
    ASSERT_TRUE(repr.ok());
    ByteVector out(repr->header_len(), std::byte{0xa5});
    repr->emit(out);
    EXPECT_EQ(out, ByteVector(datagram.begin(), datagram.begin() + static_cast<std::ptrdiff_t>(out.size())));
    EXPECT_EQ(repr->buffer_len(), datagram.size());
  }
}

}  // namespace
}  // namespace tapstack::wire
