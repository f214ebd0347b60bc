#include "sim/segment.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/world.hpp"
#include "stack/link/device.hpp"

namespace tapstack::sim {
namespace {

ByteVector make_frame(const wire::MacAddress& dst, const wire::MacAddress& src, std::uint8_t tag) {
  ByteVector frame(60);
  dst.store(frame, 0);
  src.store(frame, 6);
  store_be16(frame, 12, 0x88b5);
  frame[14] = std::byte{tag};
  return frame;
}

SegmentConfig four_ports() {
  SegmentConfig config;
  config.name = "lan";
  for (const char* name : {"p0", "p1", "p2", "p3"}) {
    SegmentPortConfig port;
    port.port.name = name;
    port.to_switch.delay_one_way = Duration::microseconds(10);
    port.from_switch.delay_one_way = Duration::microseconds(10);
    config.ports.push_back(port);
  }
  return config;
}

// Ports without hosts queue what arrives; this tells which ports got a frame
// tagged `tag` (and drains them).
class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override { build(four_ports()); }
  void build(const SegmentConfig& config) {
    auto world = World::create(WorldConfig{});
    ASSERT_TRUE(world.ok());
    world_ = std::move(*world);
    auto segment = world_->add_segment(config);
    ASSERT_TRUE(segment.ok()) << segment.error();
    lan_ = *segment;
  }
  wire::MacAddress mac(std::size_t i) { return lan_->port(i).mac(); }
  void send(std::size_t from, const wire::MacAddress& dst, std::uint8_t tag) {
    ASSERT_TRUE(*lan_->port(from).transmit(as_bytes(make_frame(dst, mac(from), tag))));
    (void)world_->run_for(Duration::milliseconds(1));
  }
  // Indices of the ports that received a frame since the last call.
  std::vector<std::size_t> receivers() {
    std::vector<std::size_t> got;
    for (std::size_t i = 0; i < lan_->port_count(); ++i) {
      link::FrameBatch batch(16, 1514);
      auto n = lan_->port(i).receive(batch);
      EXPECT_TRUE(n.ok());
      if (n.ok() && *n > 0) {
        got.push_back(i);
      }
    }
    return got;
  }
  std::unique_ptr<World> world_;
  Segment* lan_ = nullptr;
};

using Ports = std::vector<std::size_t>;

TEST_F(SegmentTest, AnUnknownDestinationIsFloodedToEveryOtherPort) {
  send(0, mac(2), 1);
  EXPECT_EQ(receivers(), (Ports{1, 2, 3}));
  EXPECT_EQ(lan_->switch_counters().flooded, 1u);
  EXPECT_EQ(lan_->switch_counters().copies_out, 3u);
}

TEST_F(SegmentTest, BroadcastAndMulticastAreAlwaysFlooded) {
  send(1, mac(0), 1);  // p0 is unknown: flooded, p1 learned
  send(0, mac(1), 2);  // p1 known: forwarded, p0 learned
  (void)receivers();
  send(2, wire::MacAddress::broadcast(), 3);
  EXPECT_EQ(receivers(), (Ports{0, 1, 3}));
  send(3, wire::MacAddress{{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}}, 4);
  EXPECT_EQ(receivers(), (Ports{0, 1, 2}));
  EXPECT_EQ(lan_->switch_counters().flooded, 3u);
}

TEST_F(SegmentTest, SourceAddressesAreLearned) {
  EXPECT_FALSE(lan_->learned_port(mac(2)).has_value());
  send(2, wire::MacAddress::broadcast(), 1);
  ASSERT_TRUE(lan_->learned_port(mac(2)).has_value());
  EXPECT_EQ(*lan_->learned_port(mac(2)), 2u);
  EXPECT_EQ(lan_->switch_counters().learned, 1u);
  EXPECT_EQ(lan_->mac_table_size(), 1u);
}

TEST_F(SegmentTest, KnownUnicastGoesOnlyToItsPort) {
  send(2, wire::MacAddress::broadcast(), 1);  // the switch learns p2
  (void)receivers();
  send(0, mac(2), 2);
  EXPECT_EQ(receivers(), (Ports{2}));
  send(2, mac(0), 3);  // and p0 was learned from the unicast frame
  EXPECT_EQ(receivers(), (Ports{0}));
  EXPECT_EQ(lan_->switch_counters().forwarded, 2u);
}

TEST_F(SegmentTest, AFrameForItsOwnPortIsFiltered) {
  send(1, wire::MacAddress::broadcast(), 1);
  (void)receivers();
  // p1 sends to its own address: the switch knows it is on p1 and drops it.
  send(1, mac(1), 2);
  EXPECT_TRUE(receivers().empty());
  EXPECT_EQ(lan_->switch_counters().filtered, 1u);
}

TEST_F(SegmentTest, AnAddressSeenOnAnotherPortMoves) {
  send(0, wire::MacAddress::broadcast(), 1);
  (void)receivers();
  // p3 sends with p0's source address (the host moved).
  ASSERT_TRUE(*lan_->port(3).transmit(as_bytes(make_frame(wire::MacAddress::broadcast(), mac(0), 2))));
  (void)world_->run_for(Duration::milliseconds(1));
  EXPECT_EQ(*lan_->learned_port(mac(0)), 3u);
  EXPECT_EQ(lan_->switch_counters().moved, 1u);
}

TEST_F(SegmentTest, AFullTableStopsLearningAndFloods) {
  SegmentConfig config = four_ports();
  config.mac_table_entries_max = 1;
  build(config);
  send(0, wire::MacAddress::broadcast(), 1);  // p0 learned; table full
  send(1, wire::MacAddress::broadcast(), 2);  // p1 not learned
  EXPECT_EQ(lan_->switch_counters().table_full, 1u);
  (void)receivers();
  send(2, mac(1), 3);
  EXPECT_EQ(receivers(), (Ports{0, 1, 3}));  // unknown: flooded
}

TEST_F(SegmentTest, EveryCableHasItsOwnFaults) {
  SegmentConfig config = four_ports();
  config.ports[3].from_switch.loss_probability = 1.0;  // p3 hears nothing
  config.ports[2].to_switch.loss_probability = 1.0;    // p2 is heard by nobody
  build(config);
  send(0, wire::MacAddress::broadcast(), 1);
  EXPECT_EQ(receivers(), (Ports{1, 2}));
  send(2, wire::MacAddress::broadcast(), 2);
  EXPECT_TRUE(receivers().empty());
  EXPECT_EQ(lan_->from_switch(3).counters().lost, 1u);
  EXPECT_EQ(lan_->to_switch(2).counters().lost, 1u);
}

TEST_F(SegmentTest, DelayIsTheSumOfBothCables) {
  send(0, wire::MacAddress::broadcast(), 1);
  (void)receivers();
  const Instant sent = world_->now();
  ASSERT_TRUE(*lan_->port(0).transmit(as_bytes(make_frame(wire::MacAddress::broadcast(), mac(0), 2))));
  (void)world_->run_until(sent + Duration::microseconds(19));
  EXPECT_TRUE(receivers().empty());
  (void)world_->run_until(sent + Duration::microseconds(20));
  EXPECT_EQ(receivers(), (Ports{1, 2, 3}));
}

// ---- configuration ----

std::string segment_error(const SegmentConfig& config) {
  auto valid = config.validate();
  return valid.ok() ? std::string("(valid)") : valid.error();
}

TEST(SegmentConfig, BadOptionsAreRejectedNamingTheOption) {
  EXPECT_EQ(segment_error(four_ports()), "(valid)");
  SegmentConfig c = four_ports();
  c.name = "";
  EXPECT_EQ(segment_error(c), "segment.name: must not be empty");
  c = four_ports();
  c.ports.resize(1);
  EXPECT_EQ(segment_error(c), "segment lan: ports: needs at least 2 ports, got 1");
  c = four_ports();
  c.ports[2].port.name = "p0";
  EXPECT_EQ(segment_error(c), "segment lan: ports[2].name: \"p0\" is also the name of ports[0]");
  c = four_ports();
  c.ports[1].port.mtu = 20;
  EXPECT_EQ(segment_error(c), "segment lan: ports[1].mtu: must be in [68, 65521], got 20");
  c = four_ports();
  c.ports[3].from_switch.duplicate_probability = -0.5;
  EXPECT_EQ(segment_error(c).rfind("segment lan: ports[3].from_switch.duplicate_probability: ", 0), 0u)
      << segment_error(c);
  c = four_ports();
  c.ports[0].to_switch.corrupt_bits_max = 0;
  EXPECT_EQ(segment_error(c).rfind("segment lan: ports[0].to_switch.corrupt_bits_max: ", 0), 0u)
      << segment_error(c);
  c = four_ports();
  c.mac_table_entries_max = 0;
  EXPECT_EQ(segment_error(c), "segment lan: mac_table_entries_max: must be at least 1");
  c = four_ports();
  c.in_flight_frames_max = 0;
  EXPECT_EQ(segment_error(c), "segment lan: in_flight_frames_max: must be at least 2, got 0");
}

}  // namespace
}  // namespace tapstack::sim
