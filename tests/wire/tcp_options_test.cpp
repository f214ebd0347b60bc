#include "stack/wire/tcp_options.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace tapstack::wire {
namespace {

// The option space of a Linux 6.x SYN (captured): MSS 65495, SACK_PERM,
// TS val 0x352f8ab1 ecr 0, NOP, WS 10.
const ByteVector kLinuxSynOptions = bytes_from_hex("0204ffd7 0402 080a 352f8ab1 00000000 01 03030a");
// The option space of a Linux data segment: NOP NOP TS.
const ByteVector kLinuxAckOptions = bytes_from_hex("0101 080a 352f8ab1 dd262137");

std::vector<TcpOption> read_all(Bytes bytes) {
  std::vector<TcpOption> out;
  TcpOptionReader reader(bytes);
  while (!reader.done()) {
    auto option = reader.next();
    EXPECT_TRUE(option.ok());
    if (!option.ok()) {
      break;
    }
    out.push_back(*option);
  }
  return out;
}

Error parse_error(const ByteVector& bytes) {
  auto parsed = TcpOptions::parse(as_bytes(bytes));
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? Error::Truncated : parsed.error();
}

TcpOptions parsed(const ByteVector& bytes) {
  auto options = TcpOptions::parse(as_bytes(bytes));
  EXPECT_TRUE(options.ok());
  return *options;
}

TEST(TcpOptionReader, ReadsLinuxSynOptionsInOrder) {
  const std::vector<TcpOption> expected{tcp_option::Mss{65495}, tcp_option::SackPermitted{},
                                        tcp_option::Timestamps{0x352f8ab1, 0}, tcp_option::Nop{},
                                        tcp_option::WindowScale{10}};
  EXPECT_EQ(read_all(as_bytes(kLinuxSynOptions)), expected);
}

TEST(TcpOptionReader, EmptySpaceIsDoneAtOnce) {
  TcpOptionReader reader(Bytes{});
  EXPECT_TRUE(reader.done());
}

TEST(TcpOptionReader, IsDoneAfterAnError) {
  const ByteVector bytes = bytes_from_hex("0200 0101");
  TcpOptionReader reader(as_bytes(bytes));
  auto first = reader.next();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error(), Error::BadOptionLength);
  EXPECT_TRUE(reader.done());
}

TEST(TcpOptions, AccessorsOnLinuxSyn) {
  const TcpOptions options = parsed(kLinuxSynOptions);
  EXPECT_EQ(options.mss(), 65495);
  EXPECT_EQ(options.window_scale(), 10);
  EXPECT_TRUE(options.sack_permitted());
  EXPECT_EQ(options.timestamps(), (tcp_option::Timestamps{0x352f8ab1, 0}));
  EXPECT_FALSE(options.sack_blocks().has_value());
  EXPECT_EQ(options.size(), 20u);
}

TEST(TcpOptions, AccessorsOnLinuxAck) {
  const TcpOptions options = parsed(kLinuxAckOptions);
  EXPECT_FALSE(options.mss().has_value());
  EXPECT_FALSE(options.window_scale().has_value());
  EXPECT_FALSE(options.sack_permitted());
  EXPECT_EQ(options.timestamps(), (tcp_option::Timestamps{0x352f8ab1, 0xdd262137}));
}

TEST(TcpOptions, KeepsBytesExactly) {
  for (const ByteVector* bytes : {&kLinuxSynOptions, &kLinuxAckOptions}) {
    const TcpOptions options = parsed(*bytes);
    EXPECT_TRUE(std::ranges::equal(options.bytes(), *bytes));
  }
}

TEST(TcpOptions, ReadsSackBlocks) {
  const ByteVector bytes = bytes_from_hex(
      "0101 0522 00001000 00002000 00003000 00004000 00005000 00006000 fffffff0 00000010");
  const TcpOptions options = parsed(bytes);
  const SackBlocks expected{{0x1000, 0x2000}, {0x3000, 0x4000}, {0x5000, 0x6000}, {0xfffffff0, 0x10}};
  EXPECT_EQ(options.sack_blocks(), expected);
  EXPECT_EQ(options.size(), 36u);
}

TEST(TcpOptions, UnknownOptionIsKeptWithItsData) {
  // A TCP Fast Open cookie (kind 34) between two known options.
  const ByteVector bytes = bytes_from_hex("0204 05b4 220a 0102030405060708 0101");
  const std::vector<TcpOption> expected{
      tcp_option::Mss{1460}, tcp_option::Unknown{34, TcpOptionBytes(as_bytes(bytes_from_hex("0102030405060708")))},
      tcp_option::Nop{}, tcp_option::Nop{}};
  EXPECT_EQ(read_all(as_bytes(bytes)), expected);
  EXPECT_EQ(parsed(bytes).mss(), 1460);
  EXPECT_TRUE(std::ranges::equal(parsed(bytes).bytes(), bytes));
}

TEST(TcpOptions, UnknownOptionWithNoData) {
  const ByteVector bytes = bytes_from_hex("fe02 0101");
  const std::vector<TcpOption> expected{tcp_option::Unknown{254, {}}, tcp_option::Nop{}, tcp_option::Nop{}};
  EXPECT_EQ(read_all(as_bytes(bytes)), expected);
}

TEST(TcpOptions, EndTakesTheRestAsPadding) {
  // After EOL nothing is an option, even bytes that would parse as one.
  const ByteVector bytes = bytes_from_hex("0101 00 020405b4 ab");
  const std::vector<TcpOption> expected{tcp_option::Nop{}, tcp_option::Nop{},
                                        tcp_option::End{TcpOptionBytes(as_bytes(bytes_from_hex("020405b4ab")))}};
  EXPECT_EQ(read_all(as_bytes(bytes)), expected);
  const TcpOptions options = parsed(bytes);
  EXPECT_FALSE(options.mss().has_value());
  EXPECT_TRUE(std::ranges::equal(options.bytes(), bytes));
}

TEST(TcpOptions, EndPaddingMayBeInvalidAsOptions) {
  const ByteVector bytes = bytes_from_hex("00 0200");  // "02 00" would be a length-0 option
  EXPECT_TRUE(TcpOptions::parse(as_bytes(bytes)).ok());
}

TEST(TcpOptions, FirstOfRepeatedOptionsWins) {
  const TcpOptions options = parsed(bytes_from_hex("020405b4 02040218"));
  EXPECT_EQ(options.mss(), 1460);
}

TEST(TcpOptions, LengthZeroIsBadOptionLength) {
  EXPECT_EQ(parse_error(bytes_from_hex("0101 fe00")), Error::BadOptionLength);
}

TEST(TcpOptions, LengthOneIsBadOptionLength) {
  EXPECT_EQ(parse_error(bytes_from_hex("0201 0101")), Error::BadOptionLength);
}

TEST(TcpOptions, OptionOverrunningTheSpaceIsBadOptionLength) {
  EXPECT_EQ(parse_error(bytes_from_hex("0101 0204 05")), Error::BadOptionLength);
  EXPECT_EQ(parse_error(bytes_from_hex("0101 220a 00000000")), Error::BadOptionLength);
}

TEST(TcpOptions, KindWithoutRoomForLengthIsBadOptionLength) {
  EXPECT_EQ(parse_error(bytes_from_hex("0101 01 08")), Error::BadOptionLength);
}

TEST(TcpOptions, MoreThanFortyBytesIsBadOptionLength) {
  const ByteVector nops(41, std::byte{1});
  EXPECT_EQ(parse_error(nops), Error::BadOptionLength);
  EXPECT_TRUE(TcpOptions::parse(as_bytes(nops).first(40)).ok());
}

TEST(TcpOptions, MssOfWrongLengthIsBadOption) {
  EXPECT_EQ(parse_error(bytes_from_hex("0203 05 01")), Error::BadOption);
}

TEST(TcpOptions, WindowScaleOfWrongLengthIsBadOption) {
  EXPECT_EQ(parse_error(bytes_from_hex("0304 0a00")), Error::BadOption);
}

TEST(TcpOptions, SackPermittedOfWrongLengthIsBadOption) {
  EXPECT_EQ(parse_error(bytes_from_hex("0403 00 01")), Error::BadOption);
}

TEST(TcpOptions, TimestampsOfWrongLengthIsBadOption) {
  EXPECT_EQ(parse_error(bytes_from_hex("0808 00000001 0000 0101")), Error::BadOption);
}

TEST(TcpOptions, SackOfWrongLengthIsBadOption) {
  EXPECT_EQ(parse_error(bytes_from_hex("0502 0101")), Error::BadOption);                   // no block
  EXPECT_EQ(parse_error(bytes_from_hex("0509 00000001 00000002 00 0101")), Error::BadOption);  // not 2 + 8n
}

TEST(TcpOptionsBuilder, ReproducesTheLinuxSyn) {
  TcpOptions options;
  ASSERT_TRUE(options.add_mss(65495));
  ASSERT_TRUE(options.add_sack_permitted_and_timestamps(0x352f8ab1, 0));
  ASSERT_TRUE(options.add_window_scale(10));
  EXPECT_TRUE(std::ranges::equal(options.bytes(), kLinuxSynOptions));
  EXPECT_EQ(options, parsed(kLinuxSynOptions));
}

TEST(TcpOptionsBuilder, EachAdderIsWordAligned) {
  TcpOptions options;
  ASSERT_TRUE(options.add_mss(1460));
  ASSERT_TRUE(options.add_window_scale(7));
  ASSERT_TRUE(options.add_sack_permitted());
  ASSERT_TRUE(options.add_timestamps(1, 2));
  EXPECT_TRUE(std::ranges::equal(options.bytes(), bytes_from_hex("020405b4 01030307 01010402 0101080a 00000001 00000002")));
  EXPECT_EQ(options.size() % 4, 0u);
}

TEST(TcpOptionsBuilder, AddsSackBlocks) {
  TcpOptions options;
  ASSERT_TRUE(options.add_timestamps(5, 6));
  ASSERT_TRUE(options.add_sack_blocks(SackBlocks{{10, 20}, {30, 40}}));
  EXPECT_TRUE(std::ranges::equal(options.bytes(), bytes_from_hex("0101080a 00000005 00000006 01010512 "
                                                                  "0000000a 00000014 0000001e 00000028")));
  EXPECT_EQ(options.sack_blocks(), (SackBlocks{{10, 20}, {30, 40}}));
  EXPECT_EQ(options.timestamps(), (tcp_option::Timestamps{5, 6}));
}

TEST(TcpOptionsBuilder, RefusesWhatDoesNotFit) {
  TcpOptions options;
  ASSERT_TRUE(options.add_timestamps(1, 2));  // 12
  ASSERT_TRUE(options.add_sack_blocks(SackBlocks{{1, 2}, {3, 4}, {5, 6}}));  // 28: full
  EXPECT_EQ(options.size(), 40u);
  const TcpOptions before = options;
  EXPECT_FALSE(options.add_mss(1460));
  EXPECT_FALSE(options.push(tcp_option::Nop{}));
  EXPECT_EQ(options, before);

  TcpOptions almost;
  ASSERT_TRUE(almost.add_timestamps(1, 2));
  ASSERT_TRUE(almost.add_sack_blocks(SackBlocks{{1, 2}, {3, 4}}));  // 32
  EXPECT_FALSE(almost.add_timestamps(3, 4));  // needs 12, 8 left: nothing appended
  EXPECT_EQ(almost.size(), 32u);
  EXPECT_TRUE(almost.add_mss(1460));
}

TEST(TcpOptionsBuilder, RefusesOptionsWithoutAnEncoding) {
  TcpOptions options;
  EXPECT_FALSE(options.push(tcp_option::Sack{}));                        // no block
  EXPECT_FALSE(options.push(tcp_option::Unknown{2, {}}));                // a known kind
  EXPECT_FALSE(options.push(tcp_option::Unknown{30, TcpOptionBytes(as_bytes(ByteVector(39)))}));  // > 38 data
  EXPECT_FALSE(options.add_sack_blocks(SackBlocks{}));
  EXPECT_TRUE(options.empty());
}

TEST(TcpOptionsBuilder, NothingFollowsAnEnd) {
  TcpOptions options;
  ASSERT_TRUE(options.push(tcp_option::End{}));
  EXPECT_FALSE(options.add_mss(1460));
  EXPECT_EQ(options.size(), 1u);
}

TEST(TcpOptionsBuilder, PadFillsWithZerosToAWord) {
  TcpOptions options;
  ASSERT_TRUE(options.push(tcp_option::WindowScale{3}));
  ASSERT_TRUE(options.push(tcp_option::Nop{}));
  ASSERT_TRUE(options.push(tcp_option::Mss{536}));  // 8 bytes: pad adds nothing
  options.pad();
  EXPECT_EQ(options.size(), 8u);
  ASSERT_TRUE(options.push(tcp_option::Nop{}));
  options.pad();
  EXPECT_TRUE(std::ranges::equal(options.bytes(), bytes_from_hex("030303 01 02040218 01 000000")));
  const std::vector<TcpOption> expected{tcp_option::WindowScale{3}, tcp_option::Nop{}, tcp_option::Mss{536},
                                        tcp_option::Nop{},
                                        tcp_option::End{TcpOptionBytes(as_bytes(bytes_from_hex("0000")))}};
  EXPECT_EQ(read_all(options.bytes()), expected);
  EXPECT_FALSE(options.push(tcp_option::Nop{}));
}

TEST(TcpOptionsBuilder, PushedOptionsReadBack) {
  const std::vector<TcpOption> list{
      tcp_option::Nop{},
      tcp_option::Mss{1},
      tcp_option::WindowScale{14},
      tcp_option::SackPermitted{},
      tcp_option::Timestamps{0xffffffff, 0x01020304},
      tcp_option::Unknown{30, TcpOptionBytes(as_bytes(bytes_from_hex("1122")))},
      tcp_option::End{TcpOptionBytes(as_bytes(bytes_from_hex("00ff")))},
  };
  TcpOptions options;
  for (const TcpOption& o : list) {
    ASSERT_TRUE(options.push(o));
  }
  EXPECT_EQ(read_all(options.bytes()), list);
  EXPECT_EQ(parsed(ByteVector(options.bytes().begin(), options.bytes().end())), options);
}

TEST(TcpOptionBytes, KeepsAtMostFortyBytes) {
  const ByteVector many(50, std::byte{7});
  const TcpOptionBytes kept(as_bytes(many));
  EXPECT_EQ(kept.size(), 40u);
  EXPECT_EQ(kept.room(), 0u);
  TcpOptionBytes some(as_bytes(many).first(30));
  EXPECT_FALSE(some.append(as_bytes(many).first(11)));
  EXPECT_EQ(some.size(), 30u);
  EXPECT_TRUE(some.append(as_bytes(many).first(10)));
  EXPECT_EQ(some, kept);
}

TEST(TcpOptionEncoding, EncodeWritesTheWireForm) {
  ByteVector out(10, std::byte{0xa5});
  encode(tcp_option::Timestamps{0x01020304, 0x05060708}, out);
  EXPECT_EQ(out, bytes_from_hex("080a 01020304 05060708"));
  EXPECT_EQ(encoded_len(tcp_option::Sack{SackBlocks{{1, 2}}}), 10u);
  EXPECT_EQ(tcp_option_kind(tcp_option::Unknown{77, {}}), static_cast<TcpOptionKind>(77));
}

}  // namespace
}  // namespace tapstack::wire
