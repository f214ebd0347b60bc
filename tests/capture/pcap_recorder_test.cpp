#include "stack/capture/pcap_recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "stack/capture/pcap_file.hpp"
#include "stack/link/device.hpp"

namespace tapstack::capture {
namespace {

using link::Frame;
using link::FrameBatch;
using link::QueueDevice;
using link::QueueDeviceConfig;

// An ARP request from a Linux host (captured), Ethernet header first.
const ByteVector kArpRequest = bytes_from_hex(
    "ff ff ff ff ff ff 02 00 0a 00 00 01 08 06"
    "00 01 08 00 06 04 00 01 02 00 0a 00 00 01 0a 00 00 01 00 00 00 00 00 00 0a 00 00 02");

// The stack's ARP reply to it.
const ByteVector kArpReply = bytes_from_hex(
    "02 00 0a 00 00 01 02 00 0a 00 00 02 08 06"
    "00 01 08 00 06 04 00 02 02 00 0a 00 00 02 0a 00 00 02 02 00 0a 00 00 01 0a 00 00 01");

ByteVector make_frame(std::size_t len, std::uint8_t seed) {
  ByteVector frame(len);
  for (std::size_t i = 0; i < len; ++i) {
    frame[i] = static_cast<std::byte>(seed + i);
  }
  return frame;
}

class PcapRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    file_ = (std::filesystem::path(::testing::TempDir()) /
             (std::string("tapstack_pcap_recorder_test_") + info->name() + "_" + std::to_string(::getpid()) +
              ".pcap"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(file_); }

  PcapWriter open_writer() {
    auto writer = PcapWriter::open(file_);
    if (!writer.ok()) {
      ADD_FAILURE() << writer.error();
      std::abort();
    }
    return std::move(*writer);
  }

  // A clock the test moves by hand, counting how often it is read.
  std::function<Instant()> manual_clock() {
    return [this] {
      clock_reads_++;
      return now_;
    };
  }

  std::vector<PcapRecord> read_back() const {
    std::vector<PcapRecord> records;
    auto reader = PcapReader::open(file_);
    EXPECT_TRUE(reader.ok()) << reader.error();
    if (!reader.ok()) {
      return records;
    }
    for (int i = 0; i < 1000; ++i) {  // bounded
      auto record = reader->next();
      EXPECT_TRUE(record.ok()) << record.error();
      if (!record.ok() || !record->has_value()) {
        break;
      }
      records.push_back(std::move(**record));
    }
    return records;
  }

  std::string file_;
  Instant now_ = Instant::from_ns(1'000'000'000);
  int clock_reads_ = 0;
};

TEST_F(PcapRecorderTest, RecordsBothDirectionsInOrderWithTheSuppliedTimestamps) {
  QueueDevice device;
  {
    PcapRecorder recorder(device, open_writer(), manual_clock());
    // A request arrives at 1 s ...
    ASSERT_TRUE(device.inject(as_bytes(kArpRequest)));
    FrameBatch batch;
    ASSERT_EQ(recorder.receive(batch).value(), 1u);
    // ... the stack replies at 1.5 s ...
    now_ = Instant::from_ns(1'500'000'000);
    ASSERT_TRUE(recorder.transmit(as_bytes(kArpReply)).value());
    // ... and two more frames go out as one batch at 3 s.
    now_ = Instant::from_ns(3'000'000'000);
    const ByteVector a = make_frame(60, 1);
    const ByteVector b = make_frame(1514, 2);
    const std::vector<Frame> frames{Frame{as_bytes(a)}, Frame{as_bytes(b)}};
    ASSERT_EQ(recorder.transmit_batch(frames).value(), 2u);
    EXPECT_EQ(recorder.frames_recorded(), 4u);
    EXPECT_EQ(recorder.write_errors(), 0u);
  }  // the recorder closes the file

  // Frames still reached the device unchanged.
  ASSERT_EQ(device.transmitted().size(), 3u);
  EXPECT_EQ(device.transmitted()[0], kArpReply);

  const std::vector<PcapRecord> records = read_back();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].data, kArpRequest);
  EXPECT_EQ(records[0].timestamp, Instant::from_ns(1'000'000'000));
  EXPECT_EQ(records[1].data, kArpReply);
  EXPECT_EQ(records[1].timestamp, Instant::from_ns(1'500'000'000));
  EXPECT_EQ(records[2].data, make_frame(60, 1));
  EXPECT_EQ(records[2].timestamp, Instant::from_ns(3'000'000'000));
  EXPECT_EQ(records[3].data, make_frame(1514, 2));
  EXPECT_EQ(records[3].original_len, 1514u);
  EXPECT_EQ(records[3].timestamp, Instant::from_ns(3'000'000'000));
}

TEST_F(PcapRecorderTest, RecordsOnlyFramesTheDeviceTook) {
  QueueDeviceConfig config;
  config.tx_queue_frames = 1;
  QueueDevice device(config);
  {
    PcapRecorder recorder(device, open_writer(), manual_clock());
    const ByteVector a = make_frame(60, 1);
    const ByteVector b = make_frame(60, 2);
    const std::vector<Frame> frames{Frame{as_bytes(a)}, Frame{as_bytes(b)}};
    ASSERT_EQ(recorder.transmit_batch(frames).value(), 1u);  // b refused: full
    // An invalid frame is an error and is not recorded either.
    auto invalid = recorder.transmit(as_bytes(make_frame(2000, 3)));
    ASSERT_FALSE(invalid.ok());
    EXPECT_EQ(invalid.error(), link::DeviceError::FrameTooLong);
    EXPECT_EQ(recorder.frames_recorded(), 1u);
  }
  const std::vector<PcapRecord> records = read_back();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].data, make_frame(60, 1));
}

TEST_F(PcapRecorderTest, RecordsOnlyFramesAppendedByThisReceive) {
  QueueDevice device;
  {
    PcapRecorder recorder(device, open_writer(), manual_clock());
    FrameBatch batch(4, link::kDefaultMaxFrameLen);
    ASSERT_TRUE(batch.push(as_bytes(make_frame(60, 9))));  // already held, not from the device
    ASSERT_TRUE(device.inject(as_bytes(kArpRequest)));
    ASSERT_EQ(recorder.receive(batch).value(), 1u);
    EXPECT_EQ(batch.size(), 2u);
  }
  const std::vector<PcapRecord> records = read_back();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].data, kArpRequest);
}

TEST_F(PcapRecorderTest, ReadsTheClockOncePerCallThatMovesFrames) {
  QueueDevice device;
  PcapRecorder recorder(device, open_writer(), manual_clock());
  FrameBatch batch;
  ASSERT_EQ(recorder.receive(batch).value(), 0u);  // nothing waiting
  EXPECT_EQ(clock_reads_, 0);
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(device.inject(as_bytes(make_frame(60, i))));
  }
  ASSERT_EQ(recorder.receive(batch).value(), 3u);
  EXPECT_EQ(clock_reads_, 1);
  ASSERT_TRUE(recorder.transmit(as_bytes(kArpReply)).value());
  EXPECT_EQ(clock_reads_, 2);
}

TEST_F(PcapRecorderTest, ForwardsEverythingElseToTheDevice) {
  QueueDeviceConfig config;
  config.mac = wire::MacAddress{{0x02, 0, 0, 0, 0, 7}};
  config.mtu = 1280;
  QueueDevice device(config);
  PcapRecorder recorder(device, open_writer(), manual_clock());
  link::Device& as_device = recorder;
  EXPECT_EQ(as_device.mac(), device.mac());
  EXPECT_EQ(as_device.mtu(), 1280u);
  EXPECT_EQ(as_device.capabilities(), device.capabilities());
  ASSERT_TRUE(as_device.transmit(as_bytes(kArpReply)).value());
  EXPECT_EQ(as_device.counters(), device.counters());
  EXPECT_EQ(as_device.counters().tx_frames, 1u);
}

TEST_F(PcapRecorderTest, SimulatedRunsGiveByteIdenticalFiles) {
  auto run = [this](const std::string& file) {
    QueueDevice device;
    auto writer = PcapWriter::open(file);
    ASSERT_TRUE(writer.ok());
    Instant virtual_now = Instant::from_ns(0);
    PcapRecorder recorder(device, std::move(*writer), [&virtual_now] { return virtual_now; });
    ASSERT_TRUE(device.inject(as_bytes(kArpRequest)));
    FrameBatch batch;
    ASSERT_EQ(recorder.receive(batch).value(), 1u);
    virtual_now += Duration::microseconds(250);
    ASSERT_TRUE(recorder.transmit(as_bytes(kArpReply)).value());
  };
  const std::string second = file_ + ".2";
  run(file_);
  run(second);
  auto bytes = [](const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  EXPECT_FALSE(bytes(file_).empty());
  EXPECT_EQ(bytes(file_), bytes(second));
  std::filesystem::remove(second);
}

TEST_F(PcapRecorderTest, WriteErrorsAreCountedAndTrafficStillFlows) {
  if (!std::filesystem::exists("/dev/full")) {
    GTEST_SKIP() << "no /dev/full";
  }
  auto writer = PcapWriter::open("/dev/full");
  ASSERT_TRUE(writer.ok()) << writer.error();
  QueueDevice device;
  PcapRecorder recorder(device, std::move(*writer), manual_clock());
  const ByteVector frame = make_frame(1514, 0);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(recorder.transmit(as_bytes(frame)).value());
  }
  EXPECT_EQ(device.transmitted().size(), 20u);
  EXPECT_GT(recorder.write_errors(), 0u);
  ASSERT_TRUE(recorder.first_write_error().has_value());
  EXPECT_NE(recorder.first_write_error()->find("write error"), std::string::npos);
  EXPECT_EQ(recorder.frames_recorded() + recorder.write_errors(), 20u);
}

}  // namespace
}  // namespace tapstack::capture
