#include "stack/ip/icmp_policy.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tapstack::ip {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Repr;

const Ipv4Address kUs = Ipv4Address::from_octets(10, 0, 0, 2);
const Ipv4Address kPeer = Ipv4Address::from_octets(10, 0, 0, 1);
const Ipv4Address kSubnetBroadcast = Ipv4Address::from_octets(10, 0, 0, 255);

// A UDP datagram from the peer to us: the usual cause of port unreachable.
Ipv4Repr udp_to_us() {
  Ipv4Repr h;
  h.protocol = wire::IpProtocol::Udp;
  h.source = kPeer;
  h.destination = kUs;
  h.payload_len = 8;
  return h;
}

const ByteVector kUdpHeader = bytes_from_hex("d4 31 00 09 00 08 00 00");

IcmpErrorVerdict verdict(const Ipv4Repr& h, const ByteVector& payload = kUdpHeader, bool link_broadcast = false) {
  return icmp_error_verdict(h, as_bytes(payload), kSubnetBroadcast, link_broadcast);
}

TEST(IcmpErrorPolicy, UnicastUdpIsAllowed) {
  EXPECT_EQ(verdict(udp_to_us()), IcmpErrorVerdict::Allowed);
  EXPECT_TRUE(may_send_icmp_error(udp_to_us(), as_bytes(kUdpHeader), kSubnetBroadcast));
}

TEST(IcmpErrorPolicy, FirstFragmentIsAllowedOthersAreNot) {
  Ipv4Repr h = udp_to_us();
  h.more_fragments = true;
  EXPECT_EQ(verdict(h), IcmpErrorVerdict::Allowed);
  h.fragment_offset = 8;
  EXPECT_EQ(verdict(h), IcmpErrorVerdict::NonInitialFragment);
  h.more_fragments = false;  // the last fragment
  EXPECT_EQ(verdict(h), IcmpErrorVerdict::NonInitialFragment);
  EXPECT_FALSE(may_send_icmp_error(h, as_bytes(kUdpHeader), kSubnetBroadcast));
}

TEST(IcmpErrorPolicy, BroadcastAndMulticastDestinations) {
  for (Ipv4Address dst : {Ipv4Address::broadcast(), kSubnetBroadcast, Ipv4Address::from_octets(224, 0, 0, 251),
                          Ipv4Address::from_octets(239, 255, 255, 250), Ipv4Address::any()}) {
    Ipv4Repr h = udp_to_us();
    h.destination = dst;
    EXPECT_EQ(verdict(h), IcmpErrorVerdict::NotUnicastDestination) << dst.to_string();
    EXPECT_FALSE(may_send_icmp_error(h, as_bytes(kUdpHeader), kSubnetBroadcast));
  }
}

TEST(IcmpErrorPolicy, LinkLayerBroadcast) {
  EXPECT_EQ(verdict(udp_to_us(), kUdpHeader, true), IcmpErrorVerdict::LinkLayerBroadcast);
}

TEST(IcmpErrorPolicy, SourcesThatAreNotOneHost) {
  for (Ipv4Address src : {Ipv4Address::any(), Ipv4Address::broadcast(), kSubnetBroadcast,
                          Ipv4Address::from_octets(224, 0, 0, 1), Ipv4Address::from_octets(127, 0, 0, 1),
                          Ipv4Address::from_octets(127, 1, 2, 3), Ipv4Address::from_octets(240, 0, 0, 1),
                          Ipv4Address::from_octets(250, 1, 1, 1)}) {
    Ipv4Repr h = udp_to_us();
    h.source = src;
    EXPECT_EQ(verdict(h), IcmpErrorVerdict::NotUnicastSource) << src.to_string();
    EXPECT_FALSE(may_send_icmp_error(h, as_bytes(kUdpHeader), kSubnetBroadcast));
  }
  // Boundaries: the last addresses before the multicast, loopback and class E blocks.
  for (Ipv4Address src : {Ipv4Address::from_octets(223, 255, 255, 254), Ipv4Address::from_octets(126, 255, 255, 255),
                          Ipv4Address::from_octets(128, 0, 0, 1), Ipv4Address::from_octets(10, 0, 1, 255)}) {
    Ipv4Repr h = udp_to_us();
    h.source = src;
    EXPECT_EQ(verdict(h), IcmpErrorVerdict::Allowed) << src.to_string();
  }
}

Ipv4Repr icmp_to_us() {
  Ipv4Repr h = udp_to_us();
  h.protocol = wire::IpProtocol::Icmp;
  return h;
}

ByteVector icmp_message(std::uint8_t type, std::uint8_t code = 0) {
  ByteVector m(8);
  m[0] = std::byte{type};
  m[1] = std::byte{code};
  return m;
}

TEST(IcmpErrorPolicy, NeverAboutAnIcmpError) {
  for (std::uint8_t type : {3, 4, 5, 11, 12}) {
    EXPECT_EQ(verdict(icmp_to_us(), icmp_message(type)), IcmpErrorVerdict::AboutIcmpError) << int{type};
    EXPECT_FALSE(may_send_icmp_error(icmp_to_us(), as_bytes(icmp_message(type)), kSubnetBroadcast));
  }
}

// Only ICMP *error* messages count: a fragmented ping that times out in
// reassembly, or an unsupported query, may be answered with an error.
TEST(IcmpErrorPolicy, ErrorsAboutQueriesAreAllowed) {
  for (std::uint8_t type : {0, 8, 9, 10, 13, 14, 15, 16, 17, 18, 42, 43}) {
    EXPECT_EQ(verdict(icmp_to_us(), icmp_message(type)), IcmpErrorVerdict::Allowed) << int{type};
    EXPECT_TRUE(may_send_icmp_error(icmp_to_us(), as_bytes(icmp_message(type)), kSubnetBroadcast));
  }
}

TEST(IcmpErrorPolicy, UnknownIcmpTypesAndMissingTypeCountAsErrors) {
  for (std::uint8_t type : {1, 2, 6, 7, 19, 30, 31, 40, 44, 255}) {
    EXPECT_EQ(verdict(icmp_to_us(), icmp_message(type)), IcmpErrorVerdict::AboutIcmpError) << int{type};
  }
  EXPECT_EQ(verdict(icmp_to_us(), ByteVector{}), IcmpErrorVerdict::AboutIcmpError);
}

TEST(IcmpErrorPolicy, ErrorTypeByteInOtherProtocolsIsIrrelevant) {
  // A UDP payload that starts with 0x03 is not an ICMP error.
  EXPECT_EQ(verdict(udp_to_us(), icmp_message(3)), IcmpErrorVerdict::Allowed);
  EXPECT_EQ(verdict(udp_to_us(), ByteVector{}), IcmpErrorVerdict::Allowed);
}

TEST(IcmpErrorPolicy, VerdictNames) {
  EXPECT_EQ(to_string(IcmpErrorVerdict::Allowed), "allowed");
  EXPECT_EQ(to_string(IcmpErrorVerdict::AboutIcmpError), "about an ICMP error");
  EXPECT_EQ(to_string(IcmpErrorVerdict::NonInitialFragment), "non-initial fragment");
}

// ---------------------------------------------------------------------------
// Token bucket

const Instant kT0 = Instant::epoch() + Duration::seconds(1000);

std::size_t allowed_in_a_row(TokenBucket& bucket, Instant now, std::size_t tries) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < tries; ++i) {
    n += bucket.allow(now) ? 1 : 0;
  }
  return n;
}

TEST(TokenBucket, StartsFullWithTheBurst) {
  TokenBucket bucket(100, 20);
  EXPECT_EQ(allowed_in_a_row(bucket, kT0, 50), 20u);
  EXPECT_EQ(bucket.tokens(), 0u);
}

TEST(TokenBucket, RefillsAtTheRateExactly) {
  TokenBucket bucket(100, 20);  // one token per 10 ms
  EXPECT_EQ(allowed_in_a_row(bucket, kT0, 20), 20u);
  EXPECT_FALSE(bucket.allow(kT0 + Duration::milliseconds(10) - Duration::nanoseconds(1)));
  // The 9.999999 ms of credit are kept, not rounded away: 1 ns more is a token.
  EXPECT_TRUE(bucket.allow(kT0 + Duration::milliseconds(10)));
  EXPECT_FALSE(bucket.allow(kT0 + Duration::milliseconds(10)));
  // 50 ms later: 5 more.
  EXPECT_EQ(allowed_in_a_row(bucket, kT0 + Duration::milliseconds(60), 10), 5u);
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(100, 20);
  EXPECT_TRUE(bucket.allow(kT0));
  EXPECT_EQ(allowed_in_a_row(bucket, kT0 + Duration::seconds(3600), 100), 20u);
}

TEST(TokenBucket, SustainedRateOverASecond) {
  TokenBucket bucket(100, 20);
  std::size_t allowed = 0;
  // An error wanted every millisecond for 10 s: the burst plus 100 per second.
  for (int ms = 0; ms < 10'000; ++ms) {
    allowed += bucket.allow(kT0 + Duration::milliseconds(ms)) ? 1 : 0;
  }
  EXPECT_EQ(allowed, 20u + 999u);  // refills during (0, 9.999 s]: 999 tokens of 10 ms
}

TEST(TokenBucket, TimeGoingBackwardsRefillsNothing) {
  TokenBucket bucket(1, 1);
  EXPECT_TRUE(bucket.allow(kT0));
  EXPECT_FALSE(bucket.allow(kT0 - Duration::seconds(5)));
  EXPECT_FALSE(bucket.allow(kT0 + Duration::milliseconds(999)));
  EXPECT_TRUE(bucket.allow(kT0 + Duration::seconds(1)));
}

TEST(TokenBucket, ZeroRateAllowsTheBurstOnce) {
  TokenBucket bucket(0, 3);
  EXPECT_EQ(allowed_in_a_row(bucket, kT0, 10), 3u);
  EXPECT_FALSE(bucket.allow(kT0 + Duration::seconds(1'000'000)));
}

TEST(TokenBucket, ZeroBurstAllowsNothing) {
  TokenBucket bucket(100, 0);
  EXPECT_FALSE(bucket.allow(kT0));
  EXPECT_FALSE(bucket.allow(kT0 + Duration::seconds(10)));
}

TEST(TokenBucket, ExtremeValuesDoNotOverflow) {
  TokenBucket bucket(0xffffffffu, 0xffffffffu);
  EXPECT_TRUE(bucket.allow(kT0));
  EXPECT_EQ(bucket.tokens(), 0xffffffffu - 1);
  EXPECT_TRUE(bucket.allow(Instant::never()));
  EXPECT_EQ(bucket.tokens(), 0xffffffffu - 1);
}

TEST(TokenBucket, SameInstantsSameAnswers) {
  TokenBucket a(7, 3);
  TokenBucket b(7, 3);
  for (int i = 0; i < 1000; ++i) {
    const Instant now = kT0 + Duration::microseconds(i * 37'123);
    EXPECT_EQ(a.allow(now), b.allow(now));
  }
}

}  // namespace
}  // namespace tapstack::ip
