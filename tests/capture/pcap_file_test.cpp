#include "stack/capture/pcap_file.hpp"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace tapstack::capture {
namespace {

// An ARP request from a Linux host (captured), Ethernet header first.
const ByteVector kArpFrame = bytes_from_hex(
    "ff ff ff ff ff ff 02 00 0a 00 00 01 08 06"
    "00 01 08 00 06 04 00 01 02 00 0a 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");

// An ICMP echo request 10.0.0.1 -> 10.0.0.2 in an Ethernet frame.
const ByteVector kPingFrame = bytes_from_hex(
    "02 00 0a 00 00 02 02 00 0a 00 00 01 08 00"
    "45 00 00 1c 12 34 40 00 40 01 14 9a 0a 00 00 01 0a 00 00 02"
    "08 00 f7 fe 00 01 00 00");

constexpr std::size_t kFileHeaderLen = 24;
constexpr std::size_t kRecordHeaderLen = 16;

ByteVector make_frame(std::size_t len, std::uint8_t seed) {
  ByteVector frame(len);
  for (std::size_t i = 0; i < len; ++i) {
    frame[i] = static_cast<std::byte>(seed + i);
  }
  return frame;
}

class PcapFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string("tapstack_pcap_file_test_") + info->name() + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static std::vector<char> read_all(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  static void write_all(const std::string& file, const std::vector<char>& bytes) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // Writes the two-frame capture used by the truncation tests: the ARP frame
  // at 1 s, the ping at 2 s.
  void write_two_frames(const std::string& file) {
    auto writer = PcapWriter::open(file);
    ASSERT_TRUE(writer.ok()) << writer.error();
    ASSERT_TRUE(writer->write(Instant::from_ns(1'000'000'000), as_bytes(kArpFrame)).ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(2'000'000'000), as_bytes(kPingFrame)).ok());
  }

  std::filesystem::path dir_;
};

TEST_F(PcapFileTest, WrittenFramesReadBackWithTimestampsBytesAndOrder) {
  const std::string file = path("roundtrip.pcap");
  const std::vector<Instant> times{Instant::from_ns(0), Instant::from_ns(1'700'000'000'123'456'000),
                                   Instant::from_ns(1'700'000'000'123'457'000)};
  const std::vector<ByteVector> frames{kArpFrame, kPingFrame, make_frame(1514, 3)};
  {
    auto writer = PcapWriter::open(file);
    ASSERT_TRUE(writer.ok()) << writer.error();
    for (std::size_t i = 0; i < frames.size(); ++i) {
      ASSERT_TRUE(writer->write(times[i], as_bytes(frames[i])).ok());
    }
    EXPECT_EQ(writer->records_written(), 3u);
  }  // closed here
  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error();
  EXPECT_EQ(reader->snaplen(), PcapWriter::kDefaultSnaplen);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto record = reader->next();
    ASSERT_TRUE(record.ok()) << record.error();
    ASSERT_TRUE(record->has_value()) << "record " << i;
    const PcapRecord& r = **record;
    EXPECT_EQ(r.timestamp, times[i]) << "record " << i;
    EXPECT_EQ(r.data, frames[i]) << "record " << i;
    EXPECT_EQ(r.original_len, frames[i].size()) << "record " << i;
  }
  EXPECT_EQ(reader->records_read(), 3u);
  auto end = reader->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
  // The end is sticky.
  auto again = reader->next();
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(PcapFileTest, WriterRoundsTimestampsDownToTheMicrosecond) {
  const std::string file = path("round.pcap");
  {
    auto writer = PcapWriter::open(file);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(5'000'001'999), as_bytes(kArpFrame)).ok());
  }
  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok());
  auto record = reader->next();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->timestamp, Instant::from_ns(5'000'001'000));
}

TEST_F(PcapFileTest, WritesAClassicMicrosecondEthernetFile) {
  const std::string file = path("header.pcap");
  {
    auto writer = PcapWriter::open(file);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(3'000'004'000), as_bytes(kArpFrame)).ok());
  }
  const std::vector<char> bytes = read_all(file);
  ASSERT_EQ(bytes.size(), kFileHeaderLen + kRecordHeaderLen + kArpFrame.size());
  auto u32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, bytes.data() + at, 4);  // the file is in host byte order
    return v;
  };
  EXPECT_EQ(u32(0), 0xa1b2c3d4u);  // microsecond magic
  EXPECT_EQ(u32(16), PcapWriter::kDefaultSnaplen);
  EXPECT_EQ(u32(20), 1u);        // LINKTYPE_ETHERNET
  EXPECT_EQ(u32(24), 3u);        // ts seconds
  EXPECT_EQ(u32(28), 4u);        // ts microseconds
  EXPECT_EQ(u32(32), kArpFrame.size());  // caplen
  EXPECT_EQ(u32(36), kArpFrame.size());  // len
}

TEST_F(PcapFileTest, SameInputGivesByteIdenticalFiles) {
  for (const char* name : {"a.pcap", "b.pcap"}) {
    auto writer = PcapWriter::open(path(name));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(10'000), as_bytes(kArpFrame)).ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(20'000), as_bytes(kPingFrame)).ok());
  }
  EXPECT_EQ(read_all(path("a.pcap")), read_all(path("b.pcap")));
}

TEST_F(PcapFileTest, FramesLongerThanTheSnaplenAreCutWithTheirLengthKept) {
  const std::string file = path("snap.pcap");
  const ByteVector frame = make_frame(100, 0);
  {
    auto writer = PcapWriter::open(file, 64);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(writer->write(Instant::from_ns(0), as_bytes(frame)).ok());
  }
  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->snaplen(), 64u);
  auto record = reader->next();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->data, ByteVector(frame.begin(), frame.begin() + 64));
  EXPECT_EQ((*record)->original_len, 100u);
}

TEST_F(PcapFileTest, FlushMakesRecordsVisibleBeforeClose) {
  const std::string file = path("flush.pcap");
  auto writer = PcapWriter::open(file);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->write(Instant::from_ns(0), as_bytes(kArpFrame)).ok());
  ASSERT_TRUE(writer->flush().ok());
  EXPECT_EQ(read_all(file).size(), kFileHeaderLen + kRecordHeaderLen + kArpFrame.size());
}

TEST_F(PcapFileTest, NanosecondFilesAreReadExactly) {
  const std::string file = path("nano.pcap");
  {
    pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
    ASSERT_NE(dead, nullptr);
    pcap_dumper_t* dumper = pcap_dump_open(dead, file.c_str());
    ASSERT_NE(dumper, nullptr);
    pcap_pkthdr header{};
    header.ts.tv_sec = 7;
    header.ts.tv_usec = 123'456'789;  // nanoseconds in a nanosecond file
    header.caplen = header.len = static_cast<bpf_u_int32>(kArpFrame.size());
    pcap_dump(reinterpret_cast<u_char*>(dumper), &header, reinterpret_cast<const u_char*>(kArpFrame.data()));
    pcap_dump_close(dumper);
    pcap_close(dead);
  }
  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error();
  auto record = reader->next();
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->timestamp, Instant::from_ns(7'123'456'789));
}

TEST_F(PcapFileTest, ReaderAndWriterCanBeMoved) {
  const std::string file = path("move.pcap");
  {
    auto opened = PcapWriter::open(file);
    ASSERT_TRUE(opened.ok());
    PcapWriter writer = std::move(*opened);
    ASSERT_TRUE(writer.write(Instant::from_ns(1000), as_bytes(kArpFrame)).ok());
    PcapWriter assigned = std::move(writer);
    ASSERT_TRUE(assigned.write(Instant::from_ns(2000), as_bytes(kPingFrame)).ok());
    EXPECT_EQ(assigned.records_written(), 2u);
  }
  auto opened = PcapReader::open(file);
  ASSERT_TRUE(opened.ok());
  PcapReader reader = std::move(*opened);
  ASSERT_TRUE(reader.next()->has_value());
  PcapReader assigned = std::move(reader);
  auto second = assigned.next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->data, kPingFrame);
  EXPECT_FALSE(assigned.next()->has_value());
}

// ---- Damaged and foreign files ----

TEST_F(PcapFileTest, FileCutMidRecordDataIsAnError) {
  const std::string file = path("cut_data.pcap");
  write_two_frames(file);
  std::vector<char> bytes = read_all(file);
  bytes.resize(bytes.size() - 10);  // the ping's last 10 bytes are missing
  write_all(file, bytes);

  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error();
  auto first = reader->next();
  ASSERT_TRUE(first.ok()) << first.error();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->data, kArpFrame);
  auto second = reader->next();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("truncated"), std::string::npos) << second.error();
  EXPECT_NE(second.error().find("record 2"), std::string::npos) << second.error();
  EXPECT_NE(second.error().find(file), std::string::npos) << second.error();
  // The error is sticky.
  auto third = reader->next();
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error(), second.error());
}

TEST_F(PcapFileTest, FileCutMidRecordHeaderIsAnError) {
  const std::string file = path("cut_header.pcap");
  write_two_frames(file);
  std::vector<char> bytes = read_all(file);
  bytes.resize(kFileHeaderLen + kRecordHeaderLen + kArpFrame.size() + 7);  // 7 of 16 header bytes
  write_all(file, bytes);

  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->next()->has_value());
  auto second = reader->next();
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().find("truncated"), std::string::npos) << second.error();
}

TEST_F(PcapFileTest, FileCutAtARecordBoundaryEndsCleanly) {
  const std::string file = path("cut_boundary.pcap");
  write_two_frames(file);
  std::vector<char> bytes = read_all(file);
  bytes.resize(kFileHeaderLen + kRecordHeaderLen + kArpFrame.size());
  write_all(file, bytes);

  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->next()->has_value());
  auto end = reader->next();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());
}

TEST_F(PcapFileTest, RecordWithAnImpossibleLengthIsAnError) {
  const std::string file = path("corrupt.pcap");
  write_two_frames(file);
  std::vector<char> bytes = read_all(file);
  // The first record's caplen (host order) becomes 0xffffff00.
  const std::uint32_t huge = 0xffffff00;
  std::memcpy(bytes.data() + kFileHeaderLen + 8, &huge, 4);
  write_all(file, bytes);

  auto reader = PcapReader::open(file);
  ASSERT_TRUE(reader.ok());
  auto record = reader->next();
  ASSERT_FALSE(record.ok());
  EXPECT_NE(record.error().find("record 1"), std::string::npos) << record.error();
}

TEST_F(PcapFileTest, FileCutInsideTheFileHeaderDoesNotOpen) {
  const std::string file = path("cut_file_header.pcap");
  write_two_frames(file);
  std::vector<char> bytes = read_all(file);
  bytes.resize(10);
  write_all(file, bytes);

  auto reader = PcapReader::open(file);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find(file), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find("truncated"), std::string::npos) << reader.error();
}

TEST_F(PcapFileTest, EmptyFileDoesNotOpen) {
  const std::string file = path("empty.pcap");
  write_all(file, {});
  auto reader = PcapReader::open(file);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find(file), std::string::npos) << reader.error();
}

TEST_F(PcapFileTest, GarbageFileIsNotACapture) {
  const std::string file = path("garbage.pcap");
  std::vector<char> garbage(200);
  for (std::size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>('A' + i % 26);
  }
  write_all(file, garbage);
  auto reader = PcapReader::open(file);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find(file), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find("unknown file format"), std::string::npos) << reader.error();
}

TEST_F(PcapFileTest, MissingFileIsAnError) {
  const std::string file = path("does_not_exist.pcap");
  auto reader = PcapReader::open(file);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find(file), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find("No such file"), std::string::npos) << reader.error();
}

TEST_F(PcapFileTest, NonEthernetLinkTypeIsRefused) {
  const std::string file = path("raw.pcap");
  {
    pcap_t* dead = pcap_open_dead(DLT_RAW, 65535);
    ASSERT_NE(dead, nullptr);
    pcap_dumper_t* dumper = pcap_dump_open(dead, file.c_str());
    ASSERT_NE(dumper, nullptr);
    // A bare IPv4 packet: the ping without its Ethernet header.
    pcap_pkthdr header{};
    header.caplen = header.len = static_cast<bpf_u_int32>(kPingFrame.size() - 14);
    pcap_dump(reinterpret_cast<u_char*>(dumper), &header,
              reinterpret_cast<const u_char*>(kPingFrame.data() + 14));
    pcap_dump_close(dumper);
    pcap_close(dead);
  }
  auto reader = PcapReader::open(file);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.error().find(file), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find("RAW"), std::string::npos) << reader.error();
  EXPECT_NE(reader.error().find("not Ethernet"), std::string::npos) << reader.error();
}

// ---- Writer errors ----

TEST_F(PcapFileTest, WriterInAMissingDirectoryFails) {
  const std::string file = path("no/such/dir/out.pcap");
  auto writer = PcapWriter::open(file);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().find(file), std::string::npos) << writer.error();
  EXPECT_NE(writer.error().find("No such file"), std::string::npos) << writer.error();
}

TEST_F(PcapFileTest, WriterRefusesAZeroSnaplen) {
  auto writer = PcapWriter::open(path("zero.pcap"), 0);
  ASSERT_FALSE(writer.ok());
  EXPECT_NE(writer.error().find("snapshot length"), std::string::npos) << writer.error();
}

TEST_F(PcapFileTest, WriterRefusesTimestampsOutsideThePcapRange) {
  auto writer = PcapWriter::open(path("range.pcap"));
  ASSERT_TRUE(writer.ok());
  auto before_epoch = writer->write(Instant::from_ns(-1), as_bytes(kArpFrame));
  ASSERT_FALSE(before_epoch.ok());
  EXPECT_NE(before_epoch.error().find("outside the pcap range"), std::string::npos) << before_epoch.error();
  // 2^32 s is past the 32-bit seconds field.
  auto too_late = writer->write(Instant::from_ns(4'294'967'296LL * 1'000'000'000), as_bytes(kArpFrame));
  ASSERT_FALSE(too_late.ok());
  // The last representable second is fine.
  EXPECT_TRUE(writer->write(Instant::from_ns(4'294'967'295LL * 1'000'000'000), as_bytes(kArpFrame)).ok());
  EXPECT_EQ(writer->records_written(), 1u);
}

TEST_F(PcapFileTest, WriteErrorsAreReported) {
  if (!std::filesystem::exists("/dev/full")) {
    GTEST_SKIP() << "no /dev/full";
  }
  auto writer = PcapWriter::open("/dev/full");
  ASSERT_TRUE(writer.ok()) << writer.error();  // the header is only buffered
  const ByteVector frame = make_frame(1514, 0);
  bool failed = false;
  // stdio buffers a few KiB; the first write that reaches the device fails.
  for (int i = 0; i < 64 && !failed; ++i) {
    failed = !writer->write(Instant::from_ns(0), as_bytes(frame)).ok();
  }
  EXPECT_TRUE(failed);
  EXPECT_FALSE(writer->flush().ok());
}

}  // namespace
}  // namespace tapstack::capture
