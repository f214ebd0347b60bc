#include "stack/wire/tcp.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {
namespace {

// One Linux connection captured on lo, 127.0.0.1:58613 -> 127.0.0.2:40001,
// and a refused connection attempt to 127.0.0.2:40002. Checksums, which
// loopback offload leaves partial, are filled in as the wire carries them.
const Ipv4Address kClient = Ipv4Address::from_octets(127, 0, 0, 1);
const Ipv4Address kServer = Ipv4Address::from_octets(127, 0, 0, 2);

// SYN: MSS 65495, SACK_PERM, TS, NOP, WS 10.
const ByteVector kSyn = bytes_from_hex(
    "e4f5 9c41 c4583054 00000000 a002 ffd7 1a39 0000"
    "0204ffd7 0402 080a 352f8ab1 00000000 01 03030a");
// SYN-ACK from the server.
const ByteVector kSynAck = bytes_from_hex(
    "9c41 e4f5 5f5e6594 c4583055 a012 ffcb 56e3 0000"
    "0204ffd7 0402 080a dd262137 352f8ab1 01 03030a");
// PSH|ACK carrying "hello, tapstack\n".
const ByteVector kData = bytes_from_hex(
    "e4f5 9c41 c4583055 5f5e6595 8018 0040 7985 0000 0101080a 352f8ab1 dd262137"
    "68656c6c6f2c20746170737461636b0a");
// FIN|ACK from the client.
const ByteVector kFin = bytes_from_hex(
    "e4f5 9c41 c4583065 5f5e6595 8011 0040 7eec 0000 0101080a 352f8b16 dd262137");
// RST|ACK from 127.0.0.2:40002 (nobody listening) to 127.0.0.1:41991.
const ByteVector kRst = bytes_from_hex("9c42 a407 00000000 ca1f998a 5014 0000 0dd9 0000");

constexpr std::size_t kChecksumAt = 16;

TcpView view_of(const ByteVector& bytes) {
  auto view = TcpView::parse(as_bytes(bytes));
  EXPECT_TRUE(view.ok());
  return *view;
}

TcpRepr repr_of(const ByteVector& bytes, Ipv4Address src, Ipv4Address dst) {
  auto repr = TcpRepr::parse(view_of(bytes), src, dst, ChecksumCheck::Verify);
  EXPECT_TRUE(repr.ok());
  return *repr;
}

// Rewrites the 16-bit word at `at` and updates the checksum to match
// (RFC 1624), so that the test segment stays valid.
void set_word(ByteVector& bytes, std::size_t at, std::uint16_t value) {
  const std::uint16_t old = load_be16(as_bytes(bytes), at);
  const std::uint16_t sum = load_be16(as_bytes(bytes), kChecksumAt);
  store_be16(bytes, at, value);
  store_be16(bytes, kChecksumAt, checksum_update(sum, old, value));
}

// emit writes header and checksum around a payload already in place.
ByteVector emit_with_payload(const TcpRepr& repr, Bytes payload, Ipv4Address src, Ipv4Address dst) {
  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  std::ranges::copy(payload, out.begin() + static_cast<std::ptrdiff_t>(repr.header_len()));
  repr.emit(out, src, dst);
  return out;
}

TEST(TcpFlags, ToStringNamesEachBit) {
  EXPECT_EQ(TcpFlags::Syn.to_string(), "SYN");
  EXPECT_EQ((TcpFlags::Syn | TcpFlags::Ack).to_string(), "SYN|ACK");
  EXPECT_EQ((TcpFlags::Ack | TcpFlags::Psh).to_string(), "PSH|ACK");
  EXPECT_EQ((TcpFlags::Fin | TcpFlags::Ack).to_string(), "FIN|ACK");
  EXPECT_EQ(TcpFlags{}.to_string(), "none");
  EXPECT_EQ(TcpFlags(0x1ff).to_string(), "SYN|FIN|RST|PSH|ACK|URG|ECE|CWR|AE");
}

TEST(TcpFlags, BitsMatchTheWire) {
  EXPECT_EQ(TcpFlags::Fin.bits(), 0x001);
  EXPECT_EQ(TcpFlags::Syn.bits(), 0x002);
  EXPECT_EQ(TcpFlags::Rst.bits(), 0x004);
  EXPECT_EQ(TcpFlags::Psh.bits(), 0x008);
  EXPECT_EQ(TcpFlags::Ack.bits(), 0x010);
  EXPECT_EQ(TcpFlags::Urg.bits(), 0x020);
  EXPECT_EQ(TcpFlags::Ece.bits(), 0x040);
  EXPECT_EQ(TcpFlags::Cwr.bits(), 0x080);
  EXPECT_EQ(TcpFlags::Ae.bits(), 0x100);
  EXPECT_EQ(TcpFlags(0xfe12).bits(), 0x012);  // bits above the nine flags are dropped
}

TEST(TcpFlags, HasAnyAndWithout) {
  const TcpFlags synack = TcpFlags::Syn | TcpFlags::Ack;
  EXPECT_TRUE(synack.has(TcpFlags::Syn));
  EXPECT_TRUE(synack.has(TcpFlags::Syn | TcpFlags::Ack));
  EXPECT_FALSE(synack.has(TcpFlags::Syn | TcpFlags::Fin));
  EXPECT_TRUE(synack.any(TcpFlags::Fin | TcpFlags::Ack));
  EXPECT_FALSE(synack.any(TcpFlags::Fin | TcpFlags::Rst));
  EXPECT_EQ(synack.without(TcpFlags::Syn), TcpFlags::Ack);
  TcpFlags f = TcpFlags::Fin;
  f |= TcpFlags::Ack;
  EXPECT_EQ(f.bits(), 0x011);
  EXPECT_TRUE(TcpFlags{}.empty());
}

TEST(TcpView, ParsesCapturedSyn) {
  const TcpView view = view_of(kSyn);
  EXPECT_EQ(view.source_port(), 58613);
  EXPECT_EQ(view.destination_port(), 40001);
  EXPECT_EQ(view.seq_number(), 3294113876u);
  EXPECT_EQ(view.ack_number(), 0u);
  EXPECT_EQ(view.data_offset(), 10);
  EXPECT_EQ(view.header_len(), 40u);
  EXPECT_EQ(view.reserved(), 0);
  EXPECT_EQ(view.flags(), TcpFlags::Syn);
  EXPECT_EQ(view.window(), 65495);
  EXPECT_EQ(view.checksum(), 0x1a39);
  EXPECT_EQ(view.urgent_pointer(), 0);
  EXPECT_EQ(view.options().size(), 20u);
  EXPECT_TRUE(view.payload().empty());
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
}

TEST(TcpView, ParsesCapturedDataSegment) {
  const TcpView view = view_of(kData);
  EXPECT_EQ(view.flags(), TcpFlags::Psh | TcpFlags::Ack);
  EXPECT_EQ(view.seq_number(), 3294113877u);
  EXPECT_EQ(view.ack_number(), 1600021909u);
  EXPECT_EQ(view.window(), 64);
  EXPECT_EQ(view.header_len(), 32u);
  const std::string text(reinterpret_cast<const char*>(view.payload().data()), view.payload().size());
  EXPECT_EQ(text, "hello, tapstack\n");
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
}

TEST(TcpView, ParsesCapturedRst) {
  const TcpView view = view_of(kRst);
  EXPECT_EQ(view.flags(), TcpFlags::Rst | TcpFlags::Ack);
  EXPECT_EQ(view.header_len(), 20u);
  EXPECT_TRUE(view.options().empty());
  EXPECT_EQ(view.window(), 0);
  EXPECT_EQ(view.ack_number(), 3391068554u);
  EXPECT_TRUE(view.verify_checksum(kServer, kClient));
}

TEST(TcpView, ChecksumCoversThePseudoHeader) {
  EXPECT_FALSE(view_of(kSyn).verify_checksum(kClient, Ipv4Address::from_octets(127, 0, 0, 3)));
}

TEST(TcpView, ReservedBitsAndAeAreReadApart) {
  ByteVector bytes = kFin;
  set_word(bytes, 12, 0x8f11);  // offset 8, reserved 111, AE, FIN|ACK
  const TcpView view = view_of(bytes);
  EXPECT_EQ(view.data_offset(), 8);
  EXPECT_EQ(view.reserved(), 7);
  EXPECT_EQ(view.flags(), TcpFlags::Ae | TcpFlags::Fin | TcpFlags::Ack);
  EXPECT_TRUE(view.verify_checksum(kClient, kServer));
}

TEST(TcpView, TruncatedHeaderIsAnError) {
  const ByteVector bytes(kRst.begin(), kRst.end() - 1);
  auto view = TcpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::Truncated);
}

TEST(TcpView, DataOffsetBelowFiveIsBadDataOffset) {
  ByteVector bytes = kRst;
  bytes[12] = std::byte{0x40};
  auto view = TcpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::BadDataOffset);
}

TEST(TcpView, DataOffsetBeyondSegmentIsBadDataOffset) {
  ByteVector bytes = kSyn;
  bytes[12] = std::byte{0xb0};  // 44 bytes of header in a 40-byte segment
  auto view = TcpView::parse(as_bytes(bytes));
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.error(), Error::BadDataOffset);
}

TEST(TcpView, SegmentTooLongForPseudoHeaderDoesNotVerify) {
  ByteVector bytes = kRst;
  bytes.resize(0x10000 + 20, std::byte{0});
  EXPECT_FALSE(view_of(bytes).verify_checksum(kServer, kClient));
}

TEST(TcpRepr, ParsesCapturedSyn) {
  const TcpRepr repr = repr_of(kSyn, kClient, kServer);
  EXPECT_EQ(repr.source_port, 58613);
  EXPECT_EQ(repr.destination_port, 40001);
  EXPECT_EQ(repr.seq_number, 3294113876u);
  EXPECT_EQ(repr.flags, TcpFlags::Syn);
  EXPECT_EQ(repr.window, 65495);
  EXPECT_EQ(repr.options.mss(), 65495);
  EXPECT_TRUE(repr.options.sack_permitted());
  EXPECT_EQ(repr.options.window_scale(), 10);
  EXPECT_EQ(repr.options.timestamps(), (tcp_option::Timestamps{0x352f8ab1, 0}));
  EXPECT_EQ(repr.payload_len, 0u);
  EXPECT_EQ(repr.header_len(), 40u);
}

TEST(TcpRepr, ParsesCapturedSynAck) {
  const TcpRepr repr = repr_of(kSynAck, kServer, kClient);
  EXPECT_EQ(repr.flags, TcpFlags::Syn | TcpFlags::Ack);
  EXPECT_EQ(repr.ack_number, 3294113877u);
  EXPECT_EQ(repr.options.timestamps(), (tcp_option::Timestamps{0xdd262137, 0x352f8ab1}));
}

TEST(TcpRepr, ParsesCapturedFin) {
  const TcpRepr repr = repr_of(kFin, kClient, kServer);
  EXPECT_EQ(repr.flags, TcpFlags::Fin | TcpFlags::Ack);
  EXPECT_EQ(repr.seq_number, 3294113893u);
  EXPECT_EQ(repr.payload_len, 0u);
}

TEST(TcpRepr, CorruptPayloadIsBadChecksum) {
  ByteVector bytes = kData;
  bytes.back() ^= std::byte{0x20};
  auto repr = TcpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_FALSE(repr.ok());
  EXPECT_EQ(repr.error(), Error::BadChecksum);
}

TEST(TcpRepr, SkipAcceptsABadChecksum) {
  ByteVector bytes = kData;
  bytes[kChecksumAt] = std::byte{0};
  auto repr = TcpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Skip);
  ASSERT_TRUE(repr.ok());
  EXPECT_EQ(repr->payload_len, 16u);
}

TEST(TcpRepr, BadOptionLengthIsReported) {
  ByteVector bytes = kSyn;
  set_word(bytes, 20, 0x0200);  // MSS with length 0
  auto repr = TcpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_FALSE(repr.ok());
  EXPECT_EQ(repr.error(), Error::BadOptionLength);
}

TEST(TcpRepr, BadOptionIsReported) {
  ByteVector bytes = kSyn;
  set_word(bytes, 36, 0x0304);  // window scale with length 4
  auto repr = TcpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_FALSE(repr.ok());
  EXPECT_EQ(repr.error(), Error::BadOption);
}

TEST(TcpRepr, ChecksumIsCheckedBeforeOptions) {
  ByteVector bytes = kSyn;
  bytes[21] = std::byte{0};  // bad option length, checksum left stale
  auto repr = TcpRepr::parse(view_of(bytes), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_FALSE(repr.ok());
  EXPECT_EQ(repr.error(), Error::BadChecksum);
}

TEST(TcpRepr, EmitBuildsTheLinuxSyn) {
  TcpRepr repr;
  repr.source_port = 58613;
  repr.destination_port = 40001;
  repr.seq_number = 3294113876u;
  repr.flags = TcpFlags::Syn;
  repr.window = 65495;
  ASSERT_TRUE(repr.options.add_mss(65495));
  ASSERT_TRUE(repr.options.add_sack_permitted_and_timestamps(0x352f8ab1, 0));
  ASSERT_TRUE(repr.options.add_window_scale(10));
  ASSERT_EQ(repr.buffer_len(), kSyn.size());
  EXPECT_EQ(emit_with_payload(repr, {}, kClient, kServer), kSyn);
}

TEST(TcpRepr, EmitWritesHeaderAroundPayloadInPlace) {
  TcpRepr repr;
  repr.source_port = 58613;
  repr.destination_port = 40001;
  repr.seq_number = 3294113877u;
  repr.ack_number = 1600021909u;
  repr.flags = TcpFlags::Psh | TcpFlags::Ack;
  repr.window = 64;
  ASSERT_TRUE(repr.options.add_timestamps(0x352f8ab1, 0xdd262137));
  repr.payload_len = 16;
  const ByteVector payload(kData.end() - 16, kData.end());
  EXPECT_EQ(emit_with_payload(repr, as_bytes(payload), kClient, kServer), kData);
}

TEST(TcpRepr, EmitZeroPadsOptionsToAWord) {
  TcpRepr repr;
  repr.flags = TcpFlags::Syn;
  ASSERT_TRUE(repr.options.push(tcp_option::Mss{1460}));
  ASSERT_TRUE(repr.options.push(tcp_option::Nop{}));
  EXPECT_EQ(repr.header_len(), 28u);
  const ByteVector out = emit_with_payload(repr, {}, kClient, kServer);
  EXPECT_EQ(ByteVector(out.begin() + 20, out.end()), bytes_from_hex("020405b4 01 000000"));
  EXPECT_EQ(out[12], std::byte{0x70});
  auto again = TcpRepr::parse(view_of(out), kClient, kServer, ChecksumCheck::Verify);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->options.mss(), 1460);
}

TEST(TcpRepr, EmitKeepsReservedBitsAndAe) {
  ByteVector bytes = kFin;
  set_word(bytes, 12, 0x8f11);
  const TcpRepr repr = repr_of(bytes, kClient, kServer);
  EXPECT_EQ(repr.reserved, 7);
  EXPECT_EQ(emit_with_payload(repr, {}, kClient, kServer), bytes);
}

TEST(TcpRepr, EmitIgnoresBytesBeyondTheSegment) {
  const TcpRepr repr = repr_of(kRst, kServer, kClient);
  ByteVector out(repr.buffer_len() + 4, std::byte{0xa5});
  repr.emit(out, kServer, kClient);
  EXPECT_TRUE(std::equal(kRst.begin(), kRst.end(), out.begin()));
  EXPECT_EQ(out.back(), std::byte{0xa5});
}

TEST(TcpRepr, RoundTripsCapturedSegments) {
  struct Case {
    const ByteVector* bytes;
    Ipv4Address src;
    Ipv4Address dst;
  };
  for (const Case& c : {Case{&kSyn, kClient, kServer}, Case{&kSynAck, kServer, kClient},
                        Case{&kData, kClient, kServer}, Case{&kFin, kClient, kServer},
                        Case{&kRst, kServer, kClient}}) {
    const TcpView view = view_of(*c.bytes);
    const TcpRepr repr = repr_of(*c.bytes, c.src, c.dst);
    EXPECT_EQ(emit_with_payload(repr, view.payload(), c.src, c.dst), *c.bytes);
  }
}

}  // namespace
}  // namespace tapstack::wire
