#include "stack/ip/reassembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "stack/base/rng.hpp"
#include "stack/wire/icmp.hpp"

namespace tapstack::ip {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Repr;
using wire::Ipv4View;

const Ipv4Address kSource = Ipv4Address::from_octets(10, 0, 0, 1);
const Ipv4Address kDestination = Ipv4Address::from_octets(10, 0, 0, 2);
constexpr std::uint16_t kId = 0x5a3b;
const Instant kStart = Instant::epoch() + Duration::seconds(100);

// The header of a fragment of an ICMP datagram 10.0.0.1 -> 10.0.0.2.
Ipv4Repr fragment_header(std::size_t offset, std::size_t len, bool more, std::uint16_t id = kId) {
  Ipv4Repr h;
  h.identification = id;
  h.more_fragments = more;
  h.fragment_offset = static_cast<std::uint16_t>(offset);
  h.ttl = 64;
  h.protocol = wire::IpProtocol::Icmp;
  h.source = kSource;
  h.destination = kDestination;
  h.payload_len = static_cast<std::uint16_t>(len);
  return h;
}

ByteVector datagram_bytes(const Ipv4Repr& header, Bytes payload) {
  ByteVector out(header.header_len() + payload.size());
  header.emit(out);
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(header.header_len()));
  return out;
}

// Bytes [offset, offset + len) of `whole` (a datagram's payload) as a fragment.
ByteVector fragment(const ByteVector& whole, std::size_t offset, std::size_t len, bool more,
                    std::uint16_t id = kId) {
  return datagram_bytes(fragment_header(offset, len, more, id), as_bytes(whole).subspan(offset, len));
}

// A payload whose bytes differ from their neighbours and from other salts.
ByteVector pattern(std::size_t n, std::uint8_t salt = 0) {
  ByteVector out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::byte>((i * 7 + salt + (i >> 8)) & 0xff);
  }
  return out;
}

std::optional<ReassembledDatagram> add(Reassembler& r, const ByteVector& datagram, Instant now = kStart) {
  auto view = Ipv4View::parse(as_bytes(datagram));
  EXPECT_TRUE(view.ok());
  if (!view.ok()) {
    return std::nullopt;
  }
  return r.add(*view, now);
}

// `whole` cut into fragments of `piece` bytes (a multiple of 8), in order.
std::vector<ByteVector> cut(const ByteVector& whole, std::size_t piece, std::uint16_t id = kId) {
  std::vector<ByteVector> out;
  for (std::size_t at = 0; at < whole.size(); at += piece) {
    const std::size_t len = std::min(piece, whole.size() - at);
    out.push_back(fragment(whole, at, len, at + len < whole.size(), id));
  }
  return out;
}

// Feeds fragments in order; returns the datagram the last one completed and
// checks that none before it completed anything.
std::optional<ReassembledDatagram> feed(Reassembler& r, const std::vector<ByteVector>& fragments,
                                        Instant now = kStart) {
  std::optional<ReassembledDatagram> result;
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    result = add(r, fragments[i], now);
    if (i + 1 < fragments.size()) {
      EXPECT_FALSE(result.has_value()) << "completed early at fragment " << i;
    }
  }
  return result;
}

void expect_empty(const Reassembler& r) {
  EXPECT_EQ(r.datagrams_held(), 0u);
  EXPECT_EQ(r.bytes_held(), 0u);
  EXPECT_EQ(r.next_deadline(), Instant::never());
}

// ---------------------------------------------------------------------------
// Orders

// `ping -s 4000 10.0.0.2` from Linux at MTU 1500: an echo request of 4008
// bytes in fragments of 1480, 1480 and 1048 payload bytes. The middle
// fragment's header is the captured one (tests/wire/ipv4_test.cpp).
class PingFragments : public ::testing::Test {
 protected:
  PingFragments() {
    const ByteVector data = pattern(4000, 0x10);
    wire::IcmpRepr echo{wire::IcmpEchoRequest{0x0b7e, 1, as_bytes(data)}};
    icmp.resize(echo.buffer_len());
    echo.emit(icmp);
    fragments = {fragment(icmp, 0, 1480, true), fragment(icmp, 1480, 1480, true), fragment(icmp, 2960, 1048, false)};
  }

  void expect_ping(const std::optional<ReassembledDatagram>& result) const {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->payload, icmp);
    EXPECT_EQ(result->header.payload_len, 4008);
    EXPECT_EQ(result->header.fragment_offset, 0);
    EXPECT_FALSE(result->header.more_fragments);
    EXPECT_EQ(result->header.identification, kId);
    EXPECT_EQ(result->header.protocol, wire::IpProtocol::Icmp);
    EXPECT_EQ(result->header.source, kSource);
    EXPECT_EQ(result->header.destination, kDestination);
    EXPECT_EQ(result->header.ttl, 64);
    // The reassembled ICMP message verifies.
    auto view = wire::IcmpView::parse(as_bytes(result->payload));
    ASSERT_TRUE(view.ok());
    EXPECT_TRUE(view->verify_checksum());
  }

  ByteVector icmp;
  std::vector<ByteVector> fragments;
  Reassembler reassembler{ReassemblyLimits{}};
};

TEST_F(PingFragments, MiddleFragmentMatchesTheCapture) {
  const ByteVector captured = bytes_from_hex("45 00 05 dc 5a 3b 20 b9 40 01 e6 2a 0a 00 00 01 0a 00 00 02");
  EXPECT_TRUE(std::equal(captured.begin(), captured.end(), fragments[1].begin()));
}

TEST_F(PingFragments, InOrder) {
  EXPECT_FALSE(add(reassembler, fragments[0]).has_value());
  EXPECT_EQ(reassembler.datagrams_held(), 1u);
  EXPECT_GT(reassembler.bytes_held(), 0u);
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  expect_ping(add(reassembler, fragments[2]));
  expect_empty(reassembler);
  EXPECT_EQ(reassembler.counters().fragments_received, 3u);
  EXPECT_EQ(reassembler.counters().datagrams_reassembled, 1u);
  EXPECT_EQ(reassembler.counters().duplicates, 0u);
  EXPECT_EQ(reassembler.counters().overlaps, 0u);
}

TEST_F(PingFragments, ReverseOrder) {
  EXPECT_FALSE(add(reassembler, fragments[2]).has_value());
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  expect_ping(add(reassembler, fragments[0]));
  expect_empty(reassembler);
}

TEST_F(PingFragments, EveryPermutation) {
  std::vector<std::size_t> order{0, 1, 2};
  do {
    Reassembler r{ReassemblyLimits{}};
    EXPECT_FALSE(add(r, fragments[order[0]]).has_value());
    EXPECT_FALSE(add(r, fragments[order[1]]).has_value());
    expect_ping(add(r, fragments[order[2]]));
    expect_empty(r);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_F(PingFragments, DuplicatesAreCountedAndIgnored) {
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  EXPECT_FALSE(add(reassembler, fragments[0]).has_value());
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  EXPECT_FALSE(add(reassembler, fragments[0]).has_value());
  expect_ping(add(reassembler, fragments[2]));
  EXPECT_EQ(reassembler.counters().duplicates, 3u);
  EXPECT_EQ(reassembler.counters().fragments_received, 6u);
}

TEST_F(PingFragments, LateDuplicateStartsANewReassembly) {
  expect_ping(feed(reassembler, fragments));
  EXPECT_FALSE(add(reassembler, fragments[1]).has_value());
  EXPECT_EQ(reassembler.datagrams_held(), 1u);
}

TEST(Reassembly, RandomOrdersOfSmallFragments) {
  const ByteVector whole = pattern(1000, 3);
  std::vector<ByteVector> fragments = cut(whole, 40);
  ASSERT_EQ(fragments.size(), 25u);
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    Rng rng(seed);
    for (std::size_t i = fragments.size() - 1; i > 0; --i) {
      std::swap(fragments[i], fragments[rng.below(i + 1)]);
    }
    Reassembler r{ReassemblyLimits{}};
    auto result = feed(r, fragments);
    ASSERT_TRUE(result.has_value()) << "seed " << seed;
    EXPECT_EQ(result->payload, whole) << "seed " << seed;
    expect_empty(r);
  }
}

// Every other 8-byte block first: the most holes a datagram can have (500).
// The descriptors live in the holes (RFC 815 section 4), so a budget of the
// payload plus the first-fragment quote is enough for all of them.
TEST(Reassembly, ManyHolesCostNoMemoryBeyondTheBuffer) {
  const ByteVector whole = pattern(8000, 5);
  ReassemblyLimits limits;
  limits.total_bytes_max = whole.size() + 20 + 8;
  Reassembler r{limits};
  for (std::size_t at = 0; at < whole.size(); at += 16) {
    EXPECT_FALSE(add(r, fragment(whole, at, 8, true)).has_value());
  }
  EXPECT_EQ(r.counters().dropped_total_memory, 0u);
  std::vector<std::size_t> holes;
  for (std::size_t at = 8; at < whole.size(); at += 16) {
    holes.push_back(at);
  }
  Rng rng(9);
  for (std::size_t i = holes.size() - 1; i > 0; --i) {
    std::swap(holes[i], holes[rng.below(i + 1)]);
  }
  std::optional<ReassembledDatagram> result;
  for (std::size_t i = 0; i < holes.size(); ++i) {
    const bool last = holes[i] + 8 == whole.size();
    result = add(r, fragment(whole, holes[i], 8, !last));
    if (i + 1 < holes.size()) {
      ASSERT_FALSE(result.has_value());
    }
  }
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(r.counters().dropped_total_memory, 0u);
  expect_empty(r);
}

TEST(Reassembly, LastFragmentFirstThenAGapThenTheRest) {
  const ByteVector whole = pattern(100, 1);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 96, 4, false)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 32, 16, true)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 32, true)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 48, 40, true)).has_value());
  auto result = add(r, fragment(whole, 88, 8, true));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(result->header.payload_len, 100);
}

// ---------------------------------------------------------------------------
// Overlaps and conflicts

TEST(Reassembly, ConsistentOverlapIsAcceptedAndCounted) {
  const ByteVector whole = pattern(64, 2);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 0, 24, true)).has_value());
  // [16, 40) overlaps [16, 24) with the same bytes and brings [24, 40).
  EXPECT_FALSE(add(r, fragment(whole, 16, 24, true)).has_value());
  EXPECT_EQ(r.counters().overlaps, 1u);
  // [8, 16) lies inside received bytes: a duplicate, not an overlap.
  EXPECT_FALSE(add(r, fragment(whole, 8, 8, true)).has_value());
  EXPECT_EQ(r.counters().duplicates, 1u);
  // The last fragment covers [32, 64): overlaps [32, 40).
  auto result = add(r, fragment(whole, 32, 32, false));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(r.counters().overlaps, 2u);
}

TEST(Reassembly, OverlapSpanningSeveralHoles) {
  const ByteVector whole = pattern(80, 4);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 8, 8, true)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 32, 8, true)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 56, 24, false)).has_value());
  // Fills the holes [0,8), [16,32) and [40,56) at once.
  auto result = add(r, fragment(whole, 0, 64, true));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(r.counters().overlaps, 1u);
}

// Two fragments disagree about bytes [8, 16): the datagram is dropped,
// whichever arrives first, so the result never depends on the order.
TEST(Reassembly, ConflictingOverlapDropsTheDatagramInEitherOrder) {
  const ByteVector whole = pattern(32, 6);
  ByteVector other = whole;
  other[12] ^= std::byte{0xff};
  const ByteVector a = fragment(whole, 0, 16, true);
  const ByteVector b = fragment(other, 8, 16, true);
  for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    Reassembler r{ReassemblyLimits{}};
    EXPECT_FALSE(add(r, x).has_value());
    EXPECT_FALSE(add(r, y).has_value());
    EXPECT_EQ(r.counters().dropped_conflicts, 1u);
    expect_empty(r);
    // The rest of the datagram alone does not complete it.
    EXPECT_FALSE(add(r, fragment(whole, 24, 8, false)).has_value());
    EXPECT_EQ(r.datagrams_held(), 1u);
  }
}

TEST(Reassembly, ConflictingDuplicateOfAWholeFragment) {
  const ByteVector whole = pattern(32, 7);
  ByteVector other = whole;
  other[0] ^= std::byte{1};
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true)).has_value());
  EXPECT_FALSE(add(r, fragment(other, 0, 16, true)).has_value());
  EXPECT_EQ(r.counters().dropped_conflicts, 1u);
  EXPECT_EQ(r.counters().duplicates, 0u);
  expect_empty(r);
}

TEST(Reassembly, ConflictingEnds) {
  const ByteVector whole = pattern(64, 8);
  struct Case {
    const char* name;
    ByteVector first;
    ByteVector second;
  };
  const std::vector<Case> cases = {
      {"two last fragments, different ends", fragment(whole, 40, 8, false), fragment(whole, 48, 8, false)},
      {"two last fragments, the second shorter", fragment(whole, 40, 16, false), fragment(whole, 40, 8, false)},
      {"a fragment past the known end", fragment(whole, 40, 8, false), fragment(whole, 48, 8, true)},
      {"MF fragment ending at the known end", fragment(whole, 40, 8, false), fragment(whole, 32, 16, true)},
      {"last fragment before received bytes", fragment(whole, 40, 16, true), fragment(whole, 32, 8, false)},
      {"last fragment where an MF fragment ended", fragment(whole, 40, 16, true), fragment(whole, 48, 8, false)},
  };
  for (const Case& c : cases) {
    Reassembler r{ReassemblyLimits{}};
    EXPECT_FALSE(add(r, c.first).has_value()) << c.name;
    EXPECT_FALSE(add(r, c.second).has_value()) << c.name;
    EXPECT_EQ(r.counters().dropped_conflicts, 1u) << c.name;
    expect_empty(r);
  }
}

TEST(Reassembly, FirstArrivedHeaderIsKept) {
  const ByteVector whole = pattern(32, 9);
  Ipv4Repr first = fragment_header(0, 16, true);
  first.ttl = 7;
  Ipv4Repr again = first;
  again.ttl = 200;
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, datagram_bytes(first, as_bytes(whole).first(16))).has_value());
  EXPECT_FALSE(add(r, datagram_bytes(again, as_bytes(whole).first(16))).has_value());
  EXPECT_EQ(r.counters().duplicates, 1u);
  auto result = add(r, fragment(whole, 16, 16, false));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->header.ttl, 7);
}

TEST(Reassembly, FirstFragmentOptionsMakeTheHeader) {
  const ByteVector whole = pattern(48, 10);
  Ipv4Repr first = fragment_header(0, 24, true);
  // Record route (not copied) padded with an End of Option List.
  const ByteVector options = bytes_from_hex("07 07 04 00 00 00 00 00");
  first.options = *wire::Ipv4Options::from_bytes(as_bytes(options));
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 24, 24, false)).has_value());
  auto result = add(r, datagram_bytes(first, as_bytes(whole).first(24)));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->header.options, first.options);
  EXPECT_EQ(result->header.header_len(), 28u);
  EXPECT_EQ(result->header.buffer_len(), 28u + 48u);
  EXPECT_EQ(result->payload, whole);
}

TEST(Reassembly, KeyIncludesSourceDestinationProtocolAndId) {
  const ByteVector whole = pattern(32, 11);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true)).has_value());
  std::vector<Ipv4Repr> others(4, fragment_header(16, 16, false));
  others[0].source = Ipv4Address::from_octets(10, 0, 0, 9);
  others[1].destination = Ipv4Address::from_octets(10, 0, 0, 9);
  others[2].protocol = wire::IpProtocol::Udp;
  others[3].identification = kId + 1;
  for (const Ipv4Repr& h : others) {
    EXPECT_FALSE(add(r, datagram_bytes(h, as_bytes(whole).subspan(16))).has_value());
  }
  EXPECT_EQ(r.datagrams_held(), 5u);
  EXPECT_TRUE(add(r, fragment(whole, 16, 16, false)).has_value());
  EXPECT_EQ(r.datagrams_held(), 4u);
}

// ---------------------------------------------------------------------------
// Malformed fragments

TEST(Reassembly, EmptyFragmentIsBad) {
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, datagram_bytes(fragment_header(8, 0, true), Bytes{})).has_value());
  EXPECT_FALSE(add(r, datagram_bytes(fragment_header(8, 0, false), Bytes{})).has_value());
  EXPECT_EQ(r.counters().bad_fragments, 2u);
  EXPECT_EQ(r.counters().fragments_received, 2u);
  expect_empty(r);
}

TEST(Reassembly, NonLastFragmentNotAMultipleOf8IsBad) {
  const ByteVector whole = pattern(12);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 0, 12, true)).has_value());
  EXPECT_EQ(r.counters().bad_fragments, 1u);
  expect_empty(r);
}

TEST(Reassembly, NonFragmentPassesThroughUntouched) {
  const ByteVector whole = pattern(30);
  Reassembler r{ReassemblyLimits{}};
  auto result = add(r, fragment(whole, 0, 30, false));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(result->header, fragment_header(0, 30, false));
  EXPECT_EQ(r.counters().fragments_received, 0u);
  EXPECT_EQ(r.counters().datagrams_reassembled, 0u);
  expect_empty(r);
}

// ---------------------------------------------------------------------------
// Timeout

TEST(Reassembly, TimeoutReportsTheFirstFragment) {
  const ByteVector whole = pattern(64, 12);
  ReassemblyLimits limits;
  limits.timeout = Duration::seconds(30);
  Reassembler r{limits};
  const ByteVector first = fragment(whole, 0, 24, true);
  EXPECT_FALSE(add(r, first, kStart).has_value());
  // A later fragment does not extend the deadline (RFC 1122 3.3.2).
  EXPECT_FALSE(add(r, fragment(whole, 40, 24, false), kStart + Duration::seconds(20)).has_value());
  EXPECT_EQ(r.next_deadline(), kStart + Duration::seconds(30));

  std::vector<ExpiredDatagram> expired;
  auto collect = [&](const ExpiredDatagram& e) { expired.push_back(e); };
  r.poll(kStart + Duration::seconds(30) - Duration::nanoseconds(1), collect);
  EXPECT_TRUE(expired.empty());
  EXPECT_EQ(r.datagrams_held(), 1u);
  r.poll(kStart + Duration::seconds(30), collect);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_TRUE(expired[0].had_first_fragment);
  EXPECT_EQ(expired[0].first_header, fragment_header(0, 24, true));
  // The first fragment's header and 8 payload bytes, as received.
  const ByteVector quote(first.begin(), first.begin() + 28);
  EXPECT_EQ(expired[0].first_bytes, quote);
  EXPECT_EQ(r.counters().timeouts, 1u);
  expect_empty(r);
  // Too late: the fragment that would have completed it starts anew.
  EXPECT_FALSE(add(r, fragment(whole, 24, 16, true), kStart + Duration::seconds(31)).has_value());
  EXPECT_EQ(r.datagrams_held(), 1u);
}

// The quote keeps the first fragment's options: header + 8 payload bytes.
TEST(Reassembly, TimeoutQuoteIncludesOptions) {
  const ByteVector whole = pattern(32, 13);
  Ipv4Repr first = fragment_header(0, 16, true);
  const ByteVector options = bytes_from_hex("07 07 04 00 00 00 00 00");
  first.options = *wire::Ipv4Options::from_bytes(as_bytes(options));
  const ByteVector first_bytes = datagram_bytes(first, as_bytes(whole).first(16));
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, first_bytes).has_value());
  EXPECT_EQ(r.bytes_held(), 16u + 36u);
  std::vector<ExpiredDatagram> expired;
  r.poll(kStart + ReassemblyLimits{}.timeout, [&](const ExpiredDatagram& e) { expired.push_back(e); });
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].first_bytes, ByteVector(first_bytes.begin(), first_bytes.begin() + 36));
  EXPECT_EQ(expired[0].first_header, first);
}

TEST(Reassembly, TimeoutWithoutFirstFragment) {
  const ByteVector whole = pattern(64, 14);
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(whole, 24, 40, false)).has_value());
  std::vector<ExpiredDatagram> expired;
  r.poll(kStart + ReassemblyLimits{}.timeout, [&](const ExpiredDatagram& e) { expired.push_back(e); });
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_FALSE(expired[0].had_first_fragment);
  EXPECT_TRUE(expired[0].first_bytes.empty());
  expect_empty(r);
}

TEST(Reassembly, ExpiryOrderIsByDeadlineThenArrival) {
  const ByteVector whole = pattern(32, 15);
  ReassemblyLimits limits;
  limits.timeout = Duration::seconds(5);
  Reassembler r{limits};
  // Ids 3 and 1 at the same instant, id 2 earlier: expected 2, 3, 1.
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 3), kStart + Duration::seconds(1)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 1), kStart + Duration::seconds(1)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 2), kStart).has_value());
  EXPECT_EQ(r.next_deadline(), kStart + Duration::seconds(5));
  std::vector<std::uint16_t> ids;
  r.poll(kStart + Duration::seconds(10),
         [&](const ExpiredDatagram& e) { ids.push_back(e.first_header.identification); });
  EXPECT_EQ(ids, (std::vector<std::uint16_t>{2, 3, 1}));
}

TEST(Reassembly, PollAcceptsAnEmptyCallback) {
  Reassembler r{ReassemblyLimits{}};
  EXPECT_FALSE(add(r, fragment(pattern(16), 0, 8, true)).has_value());
  r.poll(kStart + ReassemblyLimits{}.timeout, nullptr);
  EXPECT_EQ(r.counters().timeouts, 1u);
  expect_empty(r);
}

// ---------------------------------------------------------------------------
// Limits

TEST(Reassembly, DatagramBytesMaxIsInclusive) {
  ReassemblyLimits limits;
  limits.datagram_bytes_max = 1000;
  Reassembler r{limits};
  const ByteVector whole = pattern(980, 16);  // 20 + 980 = 1000
  auto result = feed(r, cut(whole, 496));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(r.counters().dropped_datagram_too_big, 0u);
}

TEST(Reassembly, DatagramBytesMaxDropsTheDatagram) {
  ReassemblyLimits limits;
  limits.datagram_bytes_max = 1000;
  Reassembler r{limits};
  const ByteVector whole = pattern(988, 17);  // 20 + 988 > 1000
  EXPECT_FALSE(add(r, fragment(whole, 0, 496, true)).has_value());
  EXPECT_EQ(r.datagrams_held(), 1u);
  EXPECT_FALSE(add(r, fragment(whole, 496, 492, false)).has_value());
  EXPECT_EQ(r.counters().dropped_datagram_too_big, 1u);
  expect_empty(r);
  // A lone fragment past the limit creates nothing.
  EXPECT_FALSE(add(r, fragment(whole, 496, 492, false)).has_value());
  EXPECT_EQ(r.counters().dropped_datagram_too_big, 2u);
  expect_empty(r);
}

TEST(Reassembly, FirstFragmentOptionsCountTowardsTheDatagramLimit) {
  ReassemblyLimits limits;
  limits.datagram_bytes_max = 1000;
  Reassembler r{limits};
  const ByteVector whole = pattern(976, 18);  // fits with 20 header bytes, not with 28
  EXPECT_FALSE(add(r, fragment(whole, 488, 488, false)).has_value());
  Ipv4Repr first = fragment_header(0, 488, true);
  const ByteVector options = bytes_from_hex("07 07 04 00 00 00 00 00");
  first.options = *wire::Ipv4Options::from_bytes(as_bytes(options));
  EXPECT_FALSE(add(r, datagram_bytes(first, as_bytes(whole).first(488))).has_value());
  EXPECT_EQ(r.counters().dropped_datagram_too_big, 1u);
  expect_empty(r);
}

// RFC 791: the total length is 16 bits, whatever the configured limit.
TEST(Reassembly, TotalLengthOver65535IsRejected) {
  ReassemblyLimits limits;
  limits.datagram_bytes_max = 100'000;
  limits.total_bytes_max = 1'000'000;
  Reassembler r{limits};
  // Offset 65528 + 7 bytes: the payload ends at 65535, the datagram at 65555.
  const ByteVector tail = pattern(7);
  EXPECT_FALSE(add(r, datagram_bytes(fragment_header(65528, 7, false), as_bytes(tail))).has_value());
  EXPECT_EQ(r.counters().dropped_datagram_too_big, 1u);
  expect_empty(r);
}

TEST(Reassembly, LargestDatagramReassembles) {
  Reassembler r{ReassemblyLimits{}};
  const ByteVector whole = pattern(65535 - 20, 19);
  auto fragments = cut(whole, 8192);
  std::reverse(fragments.begin(), fragments.end());
  auto result = feed(r, fragments);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->payload, whole);
  EXPECT_EQ(result->header.buffer_len(), 65535u);
  expect_empty(r);
}

TEST(Reassembly, DatagramsMaxRefusesNewDatagrams) {
  ReassemblyLimits limits;
  limits.datagrams_max = 2;
  Reassembler r{limits};
  const ByteVector whole = pattern(32, 20);
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 1)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 2)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 3)).has_value());
  EXPECT_EQ(r.counters().dropped_too_many_datagrams, 1u);
  EXPECT_EQ(r.datagrams_held(), 2u);
  // The held ones are untouched and complete; then there is room again.
  EXPECT_TRUE(add(r, fragment(whole, 16, 16, false, 1)).has_value());
  EXPECT_FALSE(add(r, fragment(whole, 0, 16, true, 3)).has_value());
  EXPECT_EQ(r.datagrams_held(), 2u);
  EXPECT_TRUE(add(r, fragment(whole, 16, 16, false, 3)).has_value());
  EXPECT_TRUE(add(r, fragment(whole, 16, 16, false, 2)).has_value());
  EXPECT_EQ(r.counters().dropped_too_many_datagrams, 1u);
  expect_empty(r);
}

TEST(Reassembly, TotalBytesMaxRefusesWhatDoesNotFit) {
  ReassemblyLimits limits;
  limits.total_bytes_max = 4096;
  Reassembler r{limits};
  const ByteVector whole = pattern(8192, 21);
  // Datagram 1: 2048 payload bytes + the 28-byte first-fragment quote.
  EXPECT_FALSE(add(r, fragment(whole, 0, 2048, true, 1)).has_value());
  EXPECT_EQ(r.bytes_held(), 2048u + 28u);
  // Datagram 2 would need another 2076.
  EXPECT_FALSE(add(r, fragment(whole, 0, 2048, true, 2)).has_value());
  EXPECT_EQ(r.counters().dropped_total_memory, 1u);
  EXPECT_EQ(r.datagrams_held(), 1u);
  // But 1992 bytes fit exactly: 2076 + 1992 + 28 = 4096.
  EXPECT_FALSE(add(r, fragment(whole, 0, 1992, true, 3)).has_value());
  EXPECT_EQ(r.bytes_held(), 4096u);
  EXPECT_EQ(r.datagrams_held(), 2u);
  EXPECT_EQ(r.counters().dropped_total_memory, 1u);
}

TEST(Reassembly, TotalBytesMaxDropsAGrowingDatagram) {
  ReassemblyLimits limits;
  limits.total_bytes_max = 4096;
  Reassembler r{limits};
  const ByteVector whole = pattern(8192, 22);
  EXPECT_FALSE(add(r, fragment(whole, 0, 1024, true)).has_value());
  EXPECT_EQ(r.bytes_held(), 1024u + 28u);
  EXPECT_FALSE(add(r, fragment(whole, 1024, 1024, true)).has_value());
  EXPECT_EQ(r.bytes_held(), 2048u + 28u);  // doubled
  // Doubling to 4096 would not fit: grows exactly to 3072 instead.
  EXPECT_FALSE(add(r, fragment(whole, 2048, 1024, true)).has_value());
  EXPECT_EQ(r.bytes_held(), 3072u + 28u);
  // 4096 + 28 does not fit at all: the datagram goes.
  EXPECT_FALSE(add(r, fragment(whole, 3072, 1024, true)).has_value());
  EXPECT_EQ(r.counters().dropped_total_memory, 1u);
  expect_empty(r);
}

TEST(Reassembly, BytesHeldReturnsToZero) {
  ReassemblyLimits limits;
  limits.timeout = Duration::seconds(1);
  Reassembler r{limits};
  const ByteVector whole = pattern(3000, 23);
  for (std::uint16_t id = 0; id < 10; ++id) {
    EXPECT_FALSE(add(r, fragment(whole, 1000, 1000, true, id)).has_value());
  }
  EXPECT_EQ(r.bytes_held(), 10u * 2000u);  // payload up to offset 2000, no quote yet
  r.poll(kStart + Duration::seconds(1), nullptr);
  expect_empty(r);
  EXPECT_EQ(r.counters().timeouts, 10u);
}

}  // namespace
}  // namespace tapstack::ip
