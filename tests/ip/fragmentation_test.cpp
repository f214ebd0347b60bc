#include "stack/ip/fragmentation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "stack/ip/reassembly.hpp"

namespace tapstack::ip {
namespace {

using wire::Ipv4Address;
using wire::Ipv4Options;
using wire::Ipv4Repr;

struct Piece {
  Ipv4Repr header;
  ByteVector payload;
};

ByteVector pattern(std::size_t n) {
  ByteVector out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<std::byte>((i * 13 + (i >> 8)) & 0xff);
  }
  return out;
}

Ipv4Repr header_for(std::size_t payload_len) {
  Ipv4Repr h;
  h.identification = 0x5a3b;
  h.ttl = 64;
  h.protocol = wire::IpProtocol::Icmp;
  h.source = Ipv4Address::from_octets(10, 0, 0, 1);
  h.destination = Ipv4Address::from_octets(10, 0, 0, 2);
  h.payload_len = static_cast<std::uint16_t>(payload_len);
  return h;
}

Ipv4Options options_from_hex(const char* hex) {
  const ByteVector raw = bytes_from_hex(hex);
  return *Ipv4Options::from_bytes(as_bytes(raw));
}

// Runs fragment_datagram and collects what it emits; `ok` is its result.
struct Split {
  bool ok = false;
  std::vector<Piece> pieces;
};

Split run(const Ipv4Repr& header, const ByteVector& payload, std::size_t mtu) {
  Split r;
  r.ok = fragment_datagram(header, as_bytes(payload), mtu, [&](const Ipv4Repr& h, Bytes slice) {
    r.pieces.push_back(Piece{h, ByteVector(slice.begin(), slice.end())});
  });
  return r;
}

// The pieces tile the payload in order, each within the MTU, and every one
// but the last carries a multiple of 8 bytes.
void expect_tiles(const Split& r, const ByteVector& payload, std::size_t mtu, std::uint16_t base_offset = 0) {
  ASSERT_TRUE(r.ok);
  std::size_t at = 0;
  for (std::size_t i = 0; i < r.pieces.size(); ++i) {
    const Piece& p = r.pieces[i];
    const bool last = i + 1 == r.pieces.size();
    EXPECT_LE(p.header.buffer_len(), mtu);
    EXPECT_EQ(p.header.payload_len, p.payload.size());
    EXPECT_EQ(p.header.fragment_offset, base_offset + at);
    EXPECT_FALSE(p.header.dont_fragment);
    if (!last) {
      EXPECT_TRUE(p.header.more_fragments);
      EXPECT_EQ(p.payload.size() % 8, 0u);
      // Maximal: another 8 bytes would not have fit.
      EXPECT_GT(p.header.buffer_len() + 8, mtu);
    }
    EXPECT_TRUE(std::equal(p.payload.begin(), p.payload.end(), payload.begin() + static_cast<std::ptrdiff_t>(at)));
    at += p.payload.size();
  }
  EXPECT_EQ(at, payload.size());
}

TEST(Fragmentation, DatagramThatFitsIsEmittedOnce) {
  const ByteVector payload = pattern(1480);
  Ipv4Repr h = header_for(1480);
  h.dont_fragment = true;
  const Split r = run(h, payload, 1500);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.pieces.size(), 1u);
  EXPECT_EQ(r.pieces[0].header, h);
  EXPECT_EQ(r.pieces[0].payload, payload);
}

TEST(Fragmentation, OneByteOverTheMtuIsSplit) {
  const ByteVector payload = pattern(1481);
  const Split r = run(header_for(1481), payload, 1500);
  ASSERT_EQ(r.pieces.size(), 2u);
  EXPECT_EQ(r.pieces[0].payload.size(), 1480u);
  EXPECT_EQ(r.pieces[1].payload.size(), 1u);
  EXPECT_EQ(r.pieces[1].header.fragment_offset, 1480);
  EXPECT_FALSE(r.pieces[1].header.more_fragments);
  expect_tiles(r, payload, 1500);
}

// `ping -s 4000` at MTU 1500, as Linux sends it: 1480 + 1480 + 1048 bytes.
TEST(Fragmentation, PingOf4000BytesAtMtu1500) {
  const ByteVector payload = pattern(4008);
  const Split r = run(header_for(4008), payload, 1500);
  ASSERT_EQ(r.pieces.size(), 3u);
  EXPECT_EQ(r.pieces[0].payload.size(), 1480u);
  EXPECT_EQ(r.pieces[1].payload.size(), 1480u);
  EXPECT_EQ(r.pieces[2].payload.size(), 1048u);
  EXPECT_EQ(r.pieces[2].header.fragment_offset, 2960);
  for (const Piece& p : r.pieces) {
    EXPECT_EQ(p.header.identification, 0x5a3b);
    EXPECT_EQ(p.header.ttl, 64);
    EXPECT_EQ(p.header.source, Ipv4Address::from_octets(10, 0, 0, 1));
  }
  // The middle fragment's header, byte for byte as captured from Linux.
  ByteVector emitted(20);
  r.pieces[1].header.emit(emitted);
  EXPECT_EQ(emitted, bytes_from_hex("45 00 05 dc 5a 3b 20 b9 40 01 e6 2a 0a 00 00 01 0a 00 00 02"));
  expect_tiles(r, payload, 1500);
}

TEST(Fragmentation, RoomIsRoundedDownTo8Bytes) {
  const ByteVector payload = pattern(3000);
  const Split r = run(header_for(3000), payload, 1000);  // room 980 -> 976
  ASSERT_EQ(r.pieces.size(), 4u);
  EXPECT_EQ(r.pieces[0].payload.size(), 976u);
  EXPECT_EQ(r.pieces[1].header.fragment_offset, 976);
  EXPECT_EQ(r.pieces[3].payload.size(), 3000u - 3 * 976u);
  expect_tiles(r, payload, 1000);
}

TEST(Fragmentation, DontFragmentRefusesAndEmitsNothing) {
  Ipv4Repr h = header_for(1481);
  h.dont_fragment = true;
  const Split r = run(h, pattern(1481), 1500);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.pieces.empty());
}

TEST(Fragmentation, MtuTooSmallForHeaderPlus8Bytes) {
  Ipv4Repr h = header_for(100);
  h.options = options_from_hex("94 04 00 00 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01"
                               "01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 00");
  ASSERT_EQ(h.header_len(), 60u);
  const ByteVector payload = pattern(100);
  const Split too_small = run(h, payload, 67);
  EXPECT_FALSE(too_small.ok);
  EXPECT_TRUE(too_small.pieces.empty());
  // RFC 791: 68 is the minimum every module must handle: 60 + 8.
  const Split minimum = run(h, payload, 68);
  ASSERT_TRUE(minimum.ok);
  EXPECT_EQ(minimum.pieces[0].payload.size(), 8u);
  expect_tiles(minimum, payload, 68);
}

// Record route (not copied), a NOP, loose source route (copied) and End of
// Option List: later fragments carry only the source route, padded to 8 bytes,
// and so have room for more data.
TEST(Fragmentation, OnlyCopiedOptionsInLaterFragments) {
  Ipv4Repr h = header_for(300);
  h.options = options_from_hex("07 07 04 00 00 00 00 01 83 07 04 0a 00 00 01 00");
  const ByteVector payload = pattern(300);
  const Split r = run(h, payload, 100);
  ASSERT_TRUE(r.ok);
  ASSERT_GE(r.pieces.size(), 2u);
  EXPECT_EQ(r.pieces[0].header.options, h.options);
  EXPECT_EQ(r.pieces[0].payload.size(), 64u);  // (100 - 36) rounded down
  const Ipv4Options copied = options_from_hex("83 07 04 0a 00 00 01 00");
  for (std::size_t i = 1; i < r.pieces.size(); ++i) {
    EXPECT_EQ(r.pieces[i].header.options, copied);
    EXPECT_EQ(r.pieces[i].header.header_len(), 28u);
  }
  EXPECT_EQ(r.pieces[1].payload.size(), 72u);  // (100 - 28) rounded down
  expect_tiles(r, payload, 100);
}

TEST(Fragmentation, CopiedOptionsRule) {
  // Nothing to copy.
  EXPECT_TRUE(options_copied_on_fragmentation(Ipv4Options{}).empty());
  EXPECT_TRUE(options_copied_on_fragmentation(options_from_hex("01 01 01 00")).empty());
  // Router alert (RFC 2113, type 0x94: copied).
  EXPECT_EQ(options_copied_on_fragmentation(options_from_hex("94 04 00 00")), options_from_hex("94 04 00 00"));
  // Timestamp (0x44: not copied) then router alert.
  EXPECT_EQ(options_copied_on_fragmentation(options_from_hex("44 08 05 00 00 00 00 00 94 04 00 00")),
            options_from_hex("94 04 00 00"));
  // Nothing after End of Option List.
  EXPECT_TRUE(options_copied_on_fragmentation(options_from_hex("00 94 04 00")).empty());
  // A malformed option stops the copy: length 1, and a length past the end.
  EXPECT_EQ(options_copied_on_fragmentation(options_from_hex("94 04 00 00 83 01 00 00")),
            options_from_hex("94 04 00 00"));
  EXPECT_EQ(options_copied_on_fragmentation(options_from_hex("94 04 00 00 83 09 00 00")),
            options_from_hex("94 04 00 00"));
  // A type octet without its length octet.
  EXPECT_TRUE(options_copied_on_fragmentation(options_from_hex("01 01 01 83")).empty());
}

// RFC 791 3.2: fragmenting a fragment offsets from its own offset; the last
// piece keeps its MF.
TEST(Fragmentation, RefragmentingAFragment) {
  const ByteVector payload = pattern(1000);
  for (bool more : {true, false}) {
    Ipv4Repr h = header_for(1000);
    h.fragment_offset = 800;
    h.more_fragments = more;
    const Split r = run(h, payload, 500);
    ASSERT_TRUE(r.ok);
    ASSERT_EQ(r.pieces.size(), 3u);
    EXPECT_EQ(r.pieces[0].header.fragment_offset, 800);
    EXPECT_EQ(r.pieces[1].header.fragment_offset, 800 + 480);
    EXPECT_EQ(r.pieces.back().header.more_fragments, more);
    expect_tiles(r, payload, 500, 800);
  }
}

TEST(Fragmentation, PayloadLenOfTheHeaderIsIgnored) {
  Ipv4Repr h = header_for(7);  // wrong on purpose
  const ByteVector payload = pattern(2000);
  const Split r = run(h, payload, 1500);
  expect_tiles(r, payload, 1500);
}

TEST(Fragmentation, EmptyPayload) {
  const Split r = run(header_for(0), ByteVector{}, 68);
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.pieces.size(), 1u);
  EXPECT_EQ(r.pieces[0].header.payload_len, 0);
}

TEST(Fragmentation, UnrepresentableDatagramsAreRefused) {
  const ByteVector big = pattern(65535 - 20 + 1);
  EXPECT_FALSE(run(header_for(0), big, 1500).ok);
  Ipv4Repr h = header_for(0);
  h.fragment_offset = 65528;
  EXPECT_FALSE(run(h, pattern(8), 1500).ok);
  EXPECT_TRUE(run(h, pattern(7), 1500).ok);
}

TEST(Fragmentation, ReassemblesToTheOriginal) {
  Ipv4Repr h = header_for(0);
  h.options = options_from_hex("07 07 04 00 00 00 00 01 83 07 04 0a 00 00 01 00");
  const ByteVector payload = pattern(9000);
  h.payload_len = 9000;
  const Split r = run(h, payload, 576);
  ASSERT_TRUE(r.ok);
  Reassembler reassembler{ReassemblyLimits{}};
  std::optional<ReassembledDatagram> result;
  for (auto it = r.pieces.rbegin(); it != r.pieces.rend(); ++it) {
    ByteVector bytes(it->header.buffer_len());
    it->header.emit(bytes);
    const auto header_len = static_cast<std::ptrdiff_t>(it->header.header_len());
    std::copy(it->payload.begin(), it->payload.end(), bytes.begin() + header_len);
    auto view = wire::Ipv4View::parse(as_bytes(bytes));
    ASSERT_TRUE(view.ok());
    result = reassembler.add(*view, Instant::epoch());
  }
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->header, h);
  EXPECT_EQ(result->payload, payload);
}

}  // namespace
}  // namespace tapstack::ip
