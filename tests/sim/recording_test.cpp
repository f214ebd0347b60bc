#include "sim/recording.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "sim/world.hpp"
#include "stack/capture/pcap_file.hpp"

namespace tapstack::sim {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<capture::PcapRecord> read_pcap(const std::string& path) {
  auto reader = capture::PcapReader::open(path);
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error());
  std::vector<capture::PcapRecord> records;
  if (!reader.ok()) {
    return records;
  }
  for (int i = 0; i < 100000; ++i) {
    auto next = reader->next();
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !next->has_value()) {
      break;
    }
    records.push_back(**next);
  }
  return records;
}

ByteVector make_frame(const wire::MacAddress& dst, const wire::MacAddress& src, std::size_t len = 60) {
  ByteVector frame(len);
  dst.store(frame, 0);
  src.store(frame, 6);
  store_be16(frame, 12, 0x0800);
  return frame;
}

class RecordingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    base_ = (std::filesystem::path(::testing::TempDir()) /
             (std::string("tapstack_recording_test_") + info->name() + "_" + std::to_string(::getpid())))
                .string();
  }
  void TearDown() override {
    std::filesystem::remove(base_ + ".pcap");
    std::filesystem::remove(base_ + ".log");
  }
  // A world recording to files (and memory) with a link l: a <-> b.
  void build(const std::string& pcap_point, const LinkFaults& a_to_b = {}) {
    WorldConfig config;
    config.recording.pcap_path = base_ + ".pcap";
    config.recording.log_path = base_ + ".log";
    config.recording.pcap_point = pcap_point;
    config.recording.log_to_memory = true;
    auto world = World::create(config);
    ASSERT_TRUE(world.ok()) << world.error();
    world_ = std::move(*world);
    LinkConfig link;
    link.name = "l";
    link.a.name = "a";
    link.a.mac = wire::MacAddress{{0x02, 0, 0, 0, 0, 0x0a}};
    link.b.name = "b";
    link.b.mac = wire::MacAddress{{0x02, 0, 0, 0, 0, 0x0b}};
    link.a_to_b = a_to_b;
    auto added = world_->add_link(link);
    ASSERT_TRUE(added.ok()) << added.error();
    link_ = *added;
  }
  std::string base_;
  std::unique_ptr<World> world_;
  Link* link_ = nullptr;
};

TEST(FormatInstant, SecondsDotNineDigits) {
  EXPECT_EQ(format_instant(Instant::epoch()), "0.000000000");
  EXPECT_EQ(format_instant(Instant::from_ns(1'002'003'004)), "1.002003004");
  EXPECT_EQ(format_instant(Instant::from_ns(-5)), "-0.000000005");
}

TEST_F(RecordingTest, TheLogTellsEachFramesFate) {
  build("*");
  ASSERT_TRUE(*link_->a().transmit(as_bytes(make_frame(link_->b().mac(), link_->a().mac()))));
  (void)world_->run_for(Duration::seconds(1));
  ASSERT_TRUE(world_->flush_recording().ok());
  const std::string expected =
      "0.000000000 sent l:a>b #1 len=60 src=02:00:00:00:00:0a dst=02:00:00:00:00:0b type=0800\n"
      "0.000000000 delayed l:a>b #1 until=0.001000000\n"
      "0.001000000 delivered l:a>b #1 len=60\n";
  EXPECT_EQ(world_->recorder()->log_text(), expected);
  EXPECT_EQ(read_file(base_ + ".log"), expected);
  EXPECT_EQ(world_->recorder()->log_lines(), 3u);
}

TEST_F(RecordingTest, DropsDuplicatesReorderingAndCorruptionAreLogged) {
  LinkFaults faults;
  faults.duplicate_probability = 1.0;
  faults.reorder_probability = 1.0;
  faults.reorder_delay = Duration::milliseconds(2);
  faults.corrupt_probability = 1.0;
  faults.corrupt_bits_max = 1;
  build("*", faults);
  ASSERT_TRUE(*link_->a().transmit(as_bytes(make_frame(link_->b().mac(), link_->a().mac()))));
  (void)world_->run_for(Duration::seconds(1));
  const std::string log = world_->recorder()->log_text();
  EXPECT_NE(log.find("0.000000000 delayed l:a>b #1 until=0.003000000 reordered\n"), std::string::npos) << log;
  EXPECT_NE(log.find("0.000000000 duplicated l:a>b #1 until=0.003000000 reordered\n"), std::string::npos) << log;
  EXPECT_NE(log.find("0.000000000 corrupted l:a>b #1 copy=0 bits="), std::string::npos) << log;
  EXPECT_NE(log.find("0.000000000 corrupted l:a>b #1 copy=1 bits="), std::string::npos) << log;
  EXPECT_NE(log.find("0.003000000 delivered l:a>b #1 len=60 corrupted\n"), std::string::npos) << log;
  EXPECT_NE(log.find("0.003000000 delivered l:a>b #1 len=60 duplicate corrupted\n"), std::string::npos) << log;
}

TEST_F(RecordingTest, TheDropReasonIsLogged) {
  LinkFaults faults;
  faults.partitions = {Partition{Instant::epoch(), Instant::epoch() + Duration::milliseconds(1)}};
  build("*", faults);
  ASSERT_TRUE(*link_->a().transmit(as_bytes(make_frame(link_->b().mac(), link_->a().mac()))));
  (void)world_->run_for(Duration::milliseconds(1));
  ASSERT_TRUE(*link_->a().transmit(as_bytes(make_frame(link_->b().mac(), link_->a().mac(), 1515 - 1))));
  const std::string log = world_->recorder()->log_text();
  EXPECT_NE(log.find("0.000000000 dropped l:a>b #1 reason=partitioned\n"), std::string::npos) << log;
  EXPECT_NE(log.find("0.001000000 sent l:a>b #2 len=1514"), std::string::npos) << log;
}

TEST_F(RecordingTest, ThePcapAtAPortHoldsWhatItSentAndReceivedAtVirtualTimes) {
  build("b");
  const ByteVector to_b = make_frame(link_->b().mac(), link_->a().mac(), 61);
  const ByteVector to_a = make_frame(link_->a().mac(), link_->b().mac(), 62);
  (void)world_->run_until(Instant::epoch() + Duration::microseconds(1500));
  ASSERT_TRUE(*link_->a().transmit(as_bytes(to_b)));  // at 1.5 ms, arrives at 2.5 ms
  ASSERT_TRUE(*link_->b().transmit(as_bytes(to_a)));  // at 1.5 ms, leaves b now
  (void)world_->run_for(Duration::seconds(1));
  ASSERT_TRUE(world_->flush_recording().ok());
  const std::vector<capture::PcapRecord> records = read_pcap(base_ + ".pcap");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].timestamp, Instant::epoch() + Duration::microseconds(1500));
  EXPECT_EQ(records[0].data, to_a);
  EXPECT_EQ(records[1].timestamp, Instant::epoch() + Duration::microseconds(2500));
  EXPECT_EQ(records[1].data, to_b);
  EXPECT_EQ(world_->recorder()->pcap_records(), 2u);
}

TEST_F(RecordingTest, ThePcapOfEveryPortHoldsEachFrameAtBothEnds) {
  build("*");
  ASSERT_TRUE(*link_->a().transmit(as_bytes(make_frame(link_->b().mac(), link_->a().mac()))));
  (void)world_->run_for(Duration::seconds(1));
  ASSERT_TRUE(world_->flush_recording().ok());
  const std::vector<capture::PcapRecord> records = read_pcap(base_ + ".pcap");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].timestamp, Instant::epoch());
  EXPECT_EQ(records[1].timestamp, Instant::epoch() + Duration::milliseconds(1));
}

TEST_F(RecordingTest, TheDeliveredCopyIsCapturedAsCorrupted) {
  LinkFaults faults;
  faults.corrupt_probability = 1.0;
  faults.corrupt_bits_max = 3;
  build("b", faults);
  const ByteVector frame = make_frame(link_->b().mac(), link_->a().mac());
  ASSERT_TRUE(*link_->a().transmit(as_bytes(frame)));
  (void)world_->run_for(Duration::seconds(1));
  ASSERT_TRUE(world_->flush_recording().ok());
  const std::vector<capture::PcapRecord> records = read_pcap(base_ + ".pcap");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_NE(records[0].data, frame);
  EXPECT_EQ(records[0].data.size(), frame.size());
}

TEST_F(RecordingTest, SwitchDecisionsAndPortDropsAreLogged) {
  WorldConfig config;
  config.recording.log_to_memory = true;
  auto world = World::create(config).value();
  SegmentConfig segment;
  segment.name = "lan";
  segment.ports = {SegmentPortConfig{PortConfig{.name = "x", .mac = {{0x02, 0, 0, 0, 0, 1}}}, {}, {}},
                   SegmentPortConfig{PortConfig{.name = "y", .mac = {{0x02, 0, 0, 0, 0, 2}}, .rx_queue_frames = 1},
                                     {}, {}}};
  Segment& lan = *world->add_segment(segment).value();
  ASSERT_TRUE(*lan.port(0).transmit(as_bytes(make_frame(lan.port(1).mac(), lan.port(0).mac()))));
  ASSERT_TRUE(*lan.port(0).transmit(as_bytes(make_frame(lan.port(1).mac(), lan.port(0).mac()))));
  (void)world->run_for(Duration::seconds(1));
  const std::string log = world->recorder()->log_text();
  EXPECT_NE(log.find("0.001000000 switch lan in=x dst=02:00:00:00:00:02 flood out=1\n"), std::string::npos) << log;
  EXPECT_NE(log.find("0.001000000 sent lan:switch>y #3 len=60"), std::string::npos) << log;
  EXPECT_NE(log.find("0.002000000 port-drop y reason=rx_queue_full len=60\n"), std::string::npos) << log;
}

TEST_F(RecordingTest, NothingIsRecordedWhenNotAsked) {
  auto world = World::create(WorldConfig{}).value();
  EXPECT_EQ(world->recorder(), nullptr);
  EXPECT_TRUE(world->flush_recording().ok());
}

TEST(RecordingConfig, BadOptionsAreRejectedNamingTheOption) {
  RecordingConfig c;
  EXPECT_TRUE(c.validate().ok());
  EXPECT_FALSE(c.enabled());
  c.pcap_point = "";
  EXPECT_EQ(c.validate().error(), "recording.pcap_point: must name a port, or be \"*\" for every port");
  c.pcap_point = "no spaces";
  EXPECT_EQ(c.validate().error().rfind("recording.pcap_point: ", 0), 0u);
  c = RecordingConfig{};
  c.pcap_path = "same";
  c.log_path = "same";
  EXPECT_EQ(c.validate().error(), "recording.log_path: must differ from recording.pcap_path");
  c = RecordingConfig{};
  c.pcap_path = "/nonexistent-dir/x.pcap";
  auto opened = Recorder::open(c);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.error().find("/nonexistent-dir/x.pcap"), std::string::npos) << opened.error();
}

}  // namespace
}  // namespace tapstack::sim
