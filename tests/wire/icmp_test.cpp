#include "stack/wire/icmp.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tapstack::wire {
namespace {

// ICMP messages (without their IPv4 header) as Linux sends them. Checksums
// computed with python3 and cross-checked by verify_checksum() below.

// `ping 10.0.0.2`: identifier 0x0b7e, sequence 1, 56 data bytes: a struct
// timeval (tv_sec, tv_usec, little-endian), then the bytes 0x10..0x37.
const ByteVector kPingData = bytes_from_hex(
    "c1 a3 50 66 00 00 00 00 2c 1b 0a 00 00 00 00 00"
    "10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 22 23 24 25 26 27"
    "28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37");

ByteVector with_data(const char* header_hex, const ByteVector& data) {
  ByteVector message = bytes_from_hex(header_hex);
  message.insert(message.end(), data.begin(), data.end());
  return message;
}

const ByteVector kEchoRequest = with_data("08 00 e5 88 0b 7e 00 01", kPingData);
// The kernel's reply: same identifier, sequence and data.
const ByteVector kEchoReply = with_data("00 00 ed 88 0b 7e 00 01", kPingData);

// The UDP datagram 10.0.0.1:54321 -> 10.0.0.2:9 carrying "hello\n", as the
// port unreachable below quotes it (Linux quotes the whole datagram).
const ByteVector kUdpDatagram = bytes_from_hex(
    "45 00 00 22 1c 46 40 00 40 11 0a 83 0a 00 00 01 0a 00 00 02"
    "d4 31 00 09 00 0e d3 b8 68 65 6c 6c 6f 0a");
const ByteVector kPortUnreachable = with_data("03 03 11 1f 00 00 00 00", kUdpDatagram);

// "Fragmentation needed" from a router with next-hop MTU 1400, quoting the IP
// header of a 1500-byte TCP segment with DF and the first 8 bytes (ports and
// sequence number).
const ByteVector kFragNeededQuote = bytes_from_hex(
    "45 00 05 dc 7d 10 40 00 3f 06 79 30 0a 00 00 01 5d b8 d8 22 a1 12 00 50 9a 3c 51 e7");
const ByteVector kFragNeeded = with_data("03 04 69 fd 00 00 05 78", kFragNeededQuote);

// Time exceeded in transit for a traceroute probe (UDP to port 33434, TTL 1).
const ByteVector kTracerouteQuote = bytes_from_hex(
    "45 00 00 3c b3 e1 00 00 01 11 d1 94 0a 00 00 01 c6 33 64 07 ab f1 82 9a 00 28 1f 2e");
const ByteVector kTimeExceeded = with_data("0b 00 a7 1d 00 00 00 00", kTracerouteQuote);

IcmpRepr parse_verified(const ByteVector& message) {
  auto view = IcmpView::parse(as_bytes(message));
  EXPECT_TRUE(view.ok());
  if (!view.ok()) {
    return {};
  }
  EXPECT_TRUE(view->verify_checksum());
  auto repr = IcmpRepr::parse(*view, ChecksumCheck::Verify);
  EXPECT_TRUE(repr.ok());
  return repr.ok() ? *repr : IcmpRepr{};
}

ByteVector emit(const IcmpRepr& repr) {
  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  repr.emit(out);
  return out;
}

bool same(Bytes a, const ByteVector& b) { return std::ranges::equal(a, b); }

TEST(IcmpView, ParsesPingEchoRequest) {
  auto view = IcmpView::parse(as_bytes(kEchoRequest));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->type(), IcmpType::EchoRequest);
  EXPECT_EQ(view->code(), 0);
  EXPECT_EQ(view->checksum(), 0xe588);
  EXPECT_EQ(view->rest_of_header(), 0x0b7e0001u);
  EXPECT_EQ(view->echo_identifier(), 0x0b7e);
  EXPECT_EQ(view->echo_sequence(), 1);
  EXPECT_TRUE(same(view->data(), kPingData));
  EXPECT_TRUE(view->verify_checksum());
}

TEST(IcmpView, ReadsNextHopMtu) {
  auto view = IcmpView::parse(as_bytes(kFragNeeded));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->type(), IcmpType::DestinationUnreachable);
  EXPECT_EQ(view->code(), 4);
  EXPECT_EQ(view->next_hop_mtu(), 1400);
}

TEST(IcmpView, ShorterThanHeaderIsTruncated) {
  const ByteVector message(kEchoRequest.begin(), kEchoRequest.begin() + 7);
  auto view = IcmpView::parse(as_bytes(message));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(IcmpView, HeaderAloneIsAMessage) {
  const ByteVector message = bytes_from_hex("08 00 f7 ff 00 00 00 00");
  auto view = IcmpView::parse(as_bytes(message));
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->data().empty());
  EXPECT_TRUE(view->verify_checksum());
}

TEST(IcmpRepr, ParsesEchoRequestAndReply) {
  EXPECT_EQ(parse_verified(kEchoRequest), (IcmpRepr{IcmpEchoRequest{0x0b7e, 1, as_bytes(kPingData)}}));
  EXPECT_EQ(parse_verified(kEchoReply), (IcmpRepr{IcmpEchoReply{0x0b7e, 1, as_bytes(kPingData)}}));
}

TEST(IcmpRepr, DataPointsIntoTheMessage) {
  const IcmpRepr repr = parse_verified(kEchoRequest);
  const auto* echo = std::get_if<IcmpEchoRequest>(&repr.message);
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->data.data(), reinterpret_cast<const std::byte*>(kEchoRequest.data()) + 8);
}

TEST(IcmpRepr, ParsesPortUnreachable) {
  const IcmpRepr repr = parse_verified(kPortUnreachable);
  EXPECT_EQ(repr.type(), IcmpType::DestinationUnreachable);
  EXPECT_EQ(repr.code(), 3);
  EXPECT_EQ(repr, (IcmpRepr{IcmpDestinationUnreachable{IcmpUnreachableCode::PortUnreachable, 0, 0,
                                                       as_bytes(kUdpDatagram)}}));
}

TEST(IcmpRepr, ParsesFragmentationNeeded) {
  EXPECT_EQ(parse_verified(kFragNeeded), (IcmpRepr{IcmpDestinationUnreachable{
                                             IcmpUnreachableCode::FragmentationNeeded, 0, 1400,
                                             as_bytes(kFragNeededQuote)}}));
}

TEST(IcmpRepr, ParsesTimeExceeded) {
  EXPECT_EQ(parse_verified(kTimeExceeded),
            (IcmpRepr{IcmpTimeExceeded{IcmpTimeExceededCode::TtlExceeded, 0, as_bytes(kTracerouteQuote)}}));
}

TEST(IcmpRepr, OtherTypesAreKeptRaw) {
  // A redirect (type 5, code 1) to gateway 10.0.0.254, quoting the UDP datagram.
  const ByteVector redirect = with_data("05 01 04 23 0a 00 00 fe", kUdpDatagram);
  const IcmpRepr built{IcmpOther{IcmpType::Redirect, 1, 0x0a0000fe, as_bytes(kUdpDatagram)}};
  EXPECT_EQ(emit(built), redirect);
  EXPECT_EQ(parse_verified(redirect), built);
  // An unknown type keeps its number.
  const IcmpRepr unknown{IcmpOther{static_cast<IcmpType>(200), 7, 0xdeadbeef, {}}};
  const ByteVector unknown_bytes = emit(unknown);
  EXPECT_EQ(parse_verified(unknown_bytes), unknown);
  EXPECT_EQ(static_cast<std::uint8_t>(unknown.type()), 200);
}

TEST(IcmpRepr, EchoWithNonZeroCodeIsKeptRaw) {
  const IcmpRepr odd{IcmpOther{IcmpType::EchoRequest, 1, 0x00010002, as_bytes(kPingData)}};
  const ByteVector bytes = emit(odd);  // the parsed Repr points into it
  const IcmpRepr parsed = parse_verified(bytes);
  EXPECT_EQ(parsed, odd);
  EXPECT_NE(std::get_if<IcmpOther>(&parsed.message), nullptr);
}

TEST(IcmpRepr, UnusedBitsAreKept) {
  // RFC 4884 puts a length in byte 5 of a destination unreachable.
  const IcmpRepr unreachable{
      IcmpDestinationUnreachable{IcmpUnreachableCode::HostUnreachable, 0x0007, 0, as_bytes(kUdpDatagram)}};
  const ByteVector unreachable_bytes = emit(unreachable);
  EXPECT_EQ(parse_verified(unreachable_bytes), unreachable);
  const IcmpRepr exceeded{
      IcmpTimeExceeded{IcmpTimeExceededCode::ReassemblyTimeExceeded, 0x01020304, as_bytes(kUdpDatagram)}};
  const ByteVector exceeded_bytes = emit(exceeded);
  EXPECT_EQ(parse_verified(exceeded_bytes), exceeded);
}

TEST(IcmpRepr, WrongChecksumIsBadChecksumWhenVerifying) {
  ByteVector message = kEchoRequest;
  message[20] = std::byte{0x99};  // one data byte changed
  auto view = IcmpView::parse(as_bytes(message));
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->verify_checksum());
  auto verified = IcmpRepr::parse(*view, ChecksumCheck::Verify);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.error(), Error::BadChecksum);
  EXPECT_TRUE(IcmpRepr::parse(*view, ChecksumCheck::Skip).ok());
}

TEST(IcmpRepr, ChecksumOfAllOnesVerifiesAndReEmitsAsZero) {
  // 0x0800 + 0xf7ff = 0xffff: the checksum is 0x0000, and its other ones'
  // complement form 0xffff verifies as well (RFC 1624 3). emit() writes 0x0000.
  const ByteVector negative_zero = bytes_from_hex("08 00 ff ff f7 ff 00 00");
  const ByteVector positive_zero = bytes_from_hex("08 00 00 00 f7 ff 00 00");
  const IcmpRepr repr = parse_verified(negative_zero);
  EXPECT_EQ(repr, parse_verified(positive_zero));
  EXPECT_EQ(emit(repr), positive_zero);
}

TEST(IcmpRepr, EmitWritesEveryFieldAndTheChecksum) {
  EXPECT_EQ(emit(IcmpRepr{IcmpEchoReply{0x0b7e, 1, as_bytes(kPingData)}}), kEchoReply);
  EXPECT_EQ(emit(IcmpRepr{IcmpEchoRequest{0x0b7e, 1, as_bytes(kPingData)}}), kEchoRequest);
  EXPECT_EQ(emit(IcmpRepr{IcmpDestinationUnreachable{IcmpUnreachableCode::FragmentationNeeded, 0, 1400,
                                                     as_bytes(kFragNeededQuote)}}),
            kFragNeeded);
  EXPECT_EQ(emit(IcmpRepr{IcmpTimeExceeded{IcmpTimeExceededCode::TtlExceeded, 0, as_bytes(kTracerouteQuote)}}),
            kTimeExceeded);
}

TEST(IcmpRepr, EmitsReplyInPlaceOverItsRequest) {
  ByteVector buffer = kEchoRequest;
  const IcmpRepr request = parse_verified(buffer);
  const auto& echo = std::get<IcmpEchoRequest>(request.message);
  const IcmpRepr reply{IcmpEchoReply{echo.identifier, echo.sequence, echo.data}};
  reply.emit(buffer);
  EXPECT_EQ(buffer, kEchoReply);
}

TEST(IcmpRepr, RoundTripsCapturedMessagesExactly) {
  for (const ByteVector& message : {kEchoRequest, kEchoReply, kPortUnreachable, kFragNeeded, kTimeExceeded}) {
    EXPECT_EQ(emit(parse_verified(message)), message);
  }
}

TEST(IcmpQuote, ParsesQuotedUdpDatagram) {
  auto quote = IcmpQuote::parse(as_bytes(kUdpDatagram));
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->header.protocol, IpProtocol::Udp);
  EXPECT_EQ(quote->header.source, Ipv4Address::from_octets(10, 0, 0, 1));
  EXPECT_EQ(quote->header.destination, Ipv4Address::from_octets(10, 0, 0, 2));
  EXPECT_EQ(quote->header.payload_len, 14);
  EXPECT_TRUE(same(quote->leading, bytes_from_hex("d4 31 00 09 00 0e d3 b8")));
  EXPECT_EQ(quote->ports(), (IcmpQuote::Ports{54321, 9}));
}

TEST(IcmpQuote, ParsesHeaderOfALongerDatagram) {
  auto quote = IcmpQuote::parse(as_bytes(kFragNeededQuote));
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->header.protocol, IpProtocol::Tcp);
  EXPECT_TRUE(quote->header.dont_fragment);
  EXPECT_EQ(quote->header.payload_len, 1480);
  EXPECT_EQ(quote->leading.size(), 8u);
  EXPECT_EQ(quote->ports(), (IcmpQuote::Ports{41234, 80}));
}

TEST(IcmpQuote, ShortQuoteGivesFewerBytesAndNoPorts) {
  // Only 3 bytes of the UDP header quoted: the header parses, the ports do not.
  const ByteVector short_quote(kUdpDatagram.begin(), kUdpDatagram.begin() + 23);
  auto quote = IcmpQuote::parse(as_bytes(short_quote));
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->leading.size(), 3u);
  EXPECT_FALSE(quote->ports().has_value());
}

TEST(IcmpQuote, NoPortsForOtherProtocolsOrLaterFragments) {
  ByteVector icmp_quote = kUdpDatagram;
  icmp_quote[9] = std::byte{1};
  auto icmp = IcmpQuote::parse(as_bytes(icmp_quote));
  ASSERT_TRUE(icmp.ok());
  EXPECT_FALSE(icmp->ports().has_value());

  ByteVector fragment_quote = kUdpDatagram;
  fragment_quote[7] = std::byte{1};  // offset 8
  auto fragment = IcmpQuote::parse(as_bytes(fragment_quote));
  ASSERT_TRUE(fragment.ok());
  EXPECT_FALSE(fragment->ports().has_value());
}

TEST(IcmpQuote, QuoteShorterThanAnIpHeaderIsTruncated) {
  const ByteVector short_quote(kUdpDatagram.begin(), kUdpDatagram.begin() + 12);
  auto quote = IcmpQuote::parse(as_bytes(short_quote));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error(), Error::Truncated);
}

TEST(IcmpQuote, QuotedVersionSixIsBadVersion) {
  ByteVector bad = kUdpDatagram;
  bad[0] = std::byte{0x65};
  auto quote = IcmpQuote::parse(as_bytes(bad));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error(), Error::BadVersion);
}

TEST(IcmpQuote, QuotedOptionsCutOffAreBadHeaderLength) {
  // IHL 8 (32 bytes) but the quote stops after 28.
  ByteVector bad(kFragNeededQuote.begin(), kFragNeededQuote.end());
  bad[0] = std::byte{0x48};
  auto quote = IcmpQuote::parse(as_bytes(bad));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error(), Error::BadHeaderLength);
}

TEST(IcmpQuote, QuotedTotalLengthBelowHeaderIsBadTotalLength) {
  ByteVector bad = kUdpDatagram;
  bad[3] = std::byte{19};
  auto quote = IcmpQuote::parse(as_bytes(bad));
  ASSERT_FALSE(quote.ok());
  EXPECT_EQ(quote.error(), Error::BadTotalLength);
}

TEST(IcmpQuote, FromAParsedPortUnreachable) {
  const IcmpRepr repr = parse_verified(kPortUnreachable);
  const auto* unreachable = std::get_if<IcmpDestinationUnreachable>(&repr.message);
  ASSERT_NE(unreachable, nullptr);
  auto quote = IcmpQuote::parse(unreachable->quoted);
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->ports(), (IcmpQuote::Ports{54321, 9}));
}

}  // namespace
}  // namespace tapstack::wire
