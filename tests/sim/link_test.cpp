#include "sim/link.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "sim/world.hpp"
#include "stack/link/device.hpp"
#include "tests/support/allocation_counter.hpp"


namespace tapstack::sim {
namespace {

using link::DeviceError;
using link::FrameBatch;

// A frame of `len` bytes from `src` to `dst` whose payload counts up from `seed`.
ByteVector make_frame(std::size_t len, const wire::MacAddress& dst, const wire::MacAddress& src,
                      std::uint8_t seed = 0) {
  ByteVector frame(len);
  dst.store(frame, 0);
  src.store(frame, 6);
  store_be16(frame, 12, 0x88b5);
  for (std::size_t i = 14; i < len; ++i) {
    frame[i] = static_cast<std::byte>(seed + i);
  }
  return frame;
}

// Drains a port's receive queue (ports without a host queue what arrives).
std::vector<ByteVector> drain(Port& port) {
  FrameBatch batch(64, 65535);
  std::vector<ByteVector> frames;
  for (int round = 0; round < 1000; ++round) {
    batch.clear();
    auto got = port.receive(batch);
    EXPECT_TRUE(got.ok());
    if (!got.ok() || *got == 0) {
      break;
    }
    for (const link::Frame& f : batch) {
      frames.emplace_back(f.data.begin(), f.data.end());
    }
  }
  return frames;
}

LinkConfig basic_link() {
  LinkConfig config;
  config.name = "wire";
  config.a.name = "a";
  config.b.name = "b";
  return config;
}

class LinkTest : public ::testing::Test {
 protected:
  Link& make(const LinkConfig& config) {
    auto world = World::create(WorldConfig{});
    EXPECT_TRUE(world.ok());
    world_ = std::move(*world);
    auto link = world_->add_link(config);
    if (!link.ok()) {
      ADD_FAILURE() << link.error();
      std::abort();
    }
    return **link;
  }
  std::unique_ptr<World> world_;
};

TEST_F(LinkTest, WithoutFaultsAFrameArrivesIntactAfterExactlyTheDelay) {
  LinkConfig config = basic_link();
  config.a_to_b.delay_one_way = Duration::microseconds(250);
  Link& link = make(config);
  const ByteVector frame = make_frame(60, link.b().mac(), link.a().mac(), 7);
  (void)world_->run_until(Instant::epoch() + Duration::milliseconds(3));
  ASSERT_TRUE(*link.a().transmit(as_bytes(frame)));
  EXPECT_EQ(link.a_to_b().in_flight(), 1u);
  (void)world_->run_until(Instant::epoch() + Duration::microseconds(3249));
  EXPECT_EQ(link.b().rx_pending(), 0u);  // one nanosecond early: not there yet
  (void)world_->run_until(Instant::epoch() + Duration::microseconds(3250));
  const std::vector<ByteVector> got = drain(link.b());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], frame);
  EXPECT_EQ(link.a_to_b().in_flight(), 0u);
  const FaultCounters& c = link.a_to_b().counters();
  EXPECT_EQ(c.offered, 1u);
  EXPECT_EQ(c.delivered, 1u);
  EXPECT_EQ(link.a().counters().tx_frames, 1u);
  EXPECT_EQ(link.a().counters().tx_bytes, 60u);
  EXPECT_EQ(link.b().counters().rx_frames, 1u);
  EXPECT_EQ(link.b_to_a().counters().offered, 0u);
}

TEST_F(LinkTest, TheTwoDirectionsAreIndependent) {
  LinkConfig config = basic_link();
  config.a_to_b.delay_one_way = Duration::milliseconds(1);
  config.b_to_a.delay_one_way = Duration::milliseconds(4);
  Link& link = make(config);
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(60, link.b().mac(), link.a().mac(), 1))));
  ASSERT_TRUE(*link.b().transmit(as_bytes(make_frame(61, link.a().mac(), link.b().mac(), 2))));
  (void)world_->run_for(Duration::milliseconds(1));
  EXPECT_EQ(drain(link.b()).size(), 1u);
  EXPECT_EQ(link.a().rx_pending(), 0u);
  (void)world_->run_for(Duration::milliseconds(3));
  const std::vector<ByteVector> got = drain(link.a());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), 61u);
}

TEST_F(LinkTest, PortsRejectInvalidFramesLikeADevice) {
  Link& link = make(basic_link());
  const ByteVector runt(13);
  auto short_result = link.a().transmit(as_bytes(runt));
  ASSERT_FALSE(short_result.ok());
  EXPECT_EQ(short_result.error(), DeviceError::FrameTooShort);
  const ByteVector giant = make_frame(1515, link.b().mac(), link.a().mac());
  auto long_result = link.a().transmit(as_bytes(giant));
  ASSERT_FALSE(long_result.ok());
  EXPECT_EQ(long_result.error(), DeviceError::FrameTooLong);
  EXPECT_EQ(link.a().counters().tx_invalid, 2u);
  EXPECT_EQ(link.a_to_b().counters().offered, 0u);
  EXPECT_TRUE(*link.a().transmit(as_bytes(make_frame(1514, link.b().mac(), link.a().mac()))));
}

TEST_F(LinkTest, LossDropsAndCountsTheFrame) {
  LinkConfig config = basic_link();
  config.a_to_b.loss_probability = 1.0;
  Link& link = make(config);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(60, link.b().mac(), link.a().mac()))));
  }
  (void)world_->run_for(Duration::seconds(1));
  EXPECT_EQ(link.b().rx_pending(), 0u);
  EXPECT_EQ(link.a_to_b().counters().offered, 10u);
  EXPECT_EQ(link.a_to_b().counters().lost, 10u);
  EXPECT_EQ(link.a_to_b().counters().delivered, 0u);
  EXPECT_EQ(link.a_to_b().in_flight(), 0u);
}

TEST_F(LinkTest, CorruptionFlipsBitsInTheDeliveredCopyOnly) {
  LinkConfig config = basic_link();
  config.a_to_b.corrupt_probability = 1.0;
  config.a_to_b.corrupt_bits_max = 1;
  Link& link = make(config);
  const ByteVector frame = make_frame(100, link.b().mac(), link.a().mac(), 3);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(*link.a().transmit(as_bytes(frame)));
  }
  (void)world_->run_for(Duration::seconds(1));
  const std::vector<ByteVector> got = drain(link.b());
  ASSERT_EQ(got.size(), 20u);
  for (const ByteVector& copy : got) {
    int differing_bits = 0;
    for (std::size_t i = 0; i < frame.size(); ++i) {
      differing_bits += __builtin_popcount(static_cast<unsigned>(copy[i] ^ frame[i]));
    }
    EXPECT_EQ(differing_bits, 1);
  }
  EXPECT_EQ(link.a_to_b().counters().corrupted, 20u);
}

TEST_F(LinkTest, DuplicationDeliversTwoCopiesOriginalFirst) {
  LinkConfig config = basic_link();
  config.a_to_b.duplicate_probability = 1.0;
  Link& link = make(config);
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(60, link.b().mac(), link.a().mac(), 1))));
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(60, link.b().mac(), link.a().mac(), 2))));
  (void)world_->run_for(Duration::seconds(1));
  const std::vector<ByteVector> got = drain(link.b());
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], got[1]);
  EXPECT_EQ(got[2], got[3]);
  EXPECT_NE(got[1], got[2]);
  EXPECT_EQ(link.a_to_b().counters().duplicated, 2u);
  EXPECT_EQ(link.a_to_b().counters().delivered, 4u);
}

TEST_F(LinkTest, FramesAboveTheLinkMtuAreDroppedAsTooBig) {
  LinkConfig config = basic_link();
  config.a_to_b.mtu = 576;
  Link& link = make(config);
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(590, link.b().mac(), link.a().mac()))));
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(591, link.b().mac(), link.a().mac()))));
  (void)world_->run_for(Duration::seconds(1));
  EXPECT_EQ(drain(link.b()).size(), 1u);
  EXPECT_EQ(link.a_to_b().counters().too_big, 1u);
}

TEST_F(LinkTest, AFarPortWithASmallerMtuDropsGiantsOnArrival) {
  LinkConfig config = basic_link();
  config.b.mtu = 100;
  Link& link = make(config);
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(115, link.b().mac(), link.a().mac()))));
  ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(114, link.b().mac(), link.a().mac()))));
  (void)world_->run_for(Duration::seconds(1));
  EXPECT_EQ(drain(link.b()).size(), 1u);
  EXPECT_EQ(link.b().counters().rx_invalid, 1u);
}

TEST_F(LinkTest, TheInFlightBoundMakesThePortRefuseFrames) {
  LinkConfig config = basic_link();
  config.in_flight_frames_max = 4;  // room for 3 frames: a 4th could be duplicated past the bound
  Link& link = make(config);
  const ByteVector frame = make_frame(60, link.b().mac(), link.a().mac());
  const link::Frame frames[5] = {{as_bytes(frame)}, {as_bytes(frame)}, {as_bytes(frame)}, {as_bytes(frame)},
                                 {as_bytes(frame)}};
  auto taken = link.a().transmit_batch(frames);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(*taken, 3u);
  EXPECT_EQ(link.a().counters().tx_full, 2u);
  (void)world_->run_for(Duration::seconds(1));
  EXPECT_EQ(*link.a().transmit(as_bytes(frame)), true);  // room again once delivered
  EXPECT_EQ(link.a_to_b().overflowed(), 0u);
}

TEST_F(LinkTest, APortWithoutAHostQueuesArrivalsUpToItsBound) {
  LinkConfig config = basic_link();
  config.b.rx_queue_frames = 2;
  Link& link = make(config);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(*link.a().transmit(as_bytes(make_frame(60, link.b().mac(), link.a().mac()))));
  }
  (void)world_->run_for(Duration::seconds(1));
  EXPECT_EQ(link.b().rx_pending(), 2u);
  EXPECT_EQ(link.b().counters().rx_dropped, 3u);
  FrameBatch small(4, 100);
  auto refused = link.b().receive(small);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), DeviceError::BufferTooSmall);
  EXPECT_EQ(drain(link.b()).size(), 2u);
  EXPECT_EQ(link.b().counters().rx_frames, 2u);
}

TEST(Port, NotConnectedToAWireIsClosed) {
  Scheduler scheduler;
  PortConfig config;
  config.name = "loose";
  Port port(config, scheduler, nullptr);
  const ByteVector frame = make_frame(60, wire::MacAddress::broadcast(), port.mac());
  auto result = port.transmit(as_bytes(frame));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error(), DeviceError::Closed);
  EXPECT_EQ(port.mac(), mac_from_name("loose"));
  EXPECT_TRUE(port.mac().is_unicast());
  EXPECT_EQ(port.mac().octets[0], 0x02);  // locally administered
  EXPECT_EQ(port.mtu(), 1500u);
  EXPECT_EQ(port.capabilities().tso_max_size, 0u);
}

TEST_F(LinkTest, NoAllocationPerFrameAfterWarmUp) {
  LinkConfig config = basic_link();
  config.a_to_b.loss_probability = 0.1;
  config.a_to_b.duplicate_probability = 0.1;
  config.a_to_b.corrupt_probability = 0.1;
  config.a_to_b.reorder_probability = 0.1;
  config.a_to_b.jitter_max = Duration::microseconds(100);
  config.a_to_b.rate_bits_per_second = 1'000'000'000;
  Link& link = make(config);
  // Something must consume arrivals: a port without a host would queue them.
  struct Sink final : Host {
    void receive(Bytes, Instant) override { frames++; }
    Instant poll(Instant) override { return Instant::never(); }
    std::uint64_t frames = 0;
  };
  auto sink = world_->add_host("sink", link.b(), std::make_unique<Sink>());
  ASSERT_TRUE(sink.ok());
  const ByteVector frame = make_frame(64, link.b().mac(), link.a().mac());
  auto send_for = [&](int rounds, int per_round) {
    for (int round = 0; round < rounds; ++round) {
      for (int i = 0; i < per_round; ++i) {
        ASSERT_TRUE(*link.a().transmit(as_bytes(frame)));
      }
      (void)world_->run_for(Duration::microseconds(100));
    }
  };
  // Warm-up at twice the measured rate: the pool and the event queue grow
  // past the largest size the measured traffic needs.
  send_for(200, 100);
  EXPECT_EQ(test_support::allocations_during([&] { send_for(200, 50); }), 0u);
  EXPECT_GT(static_cast<Sink*>(*sink)->frames, 25000u);
}

// ---- configuration ----

std::string link_error(const LinkConfig& config) {
  auto valid = config.validate();
  return valid.ok() ? std::string("(valid)") : valid.error();
}

TEST(LinkConfig, TheBasicConfigurationIsValid) { EXPECT_TRUE(basic_link().validate().ok()); }

TEST(LinkConfig, BadOptionsAreRejectedNamingTheOption) {
  LinkConfig c = basic_link();
  c.name = "";
  EXPECT_EQ(link_error(c), "link.name: must not be empty");
  c = basic_link();
  c.name = "bad name";
  EXPECT_NE(link_error(c).find("link.name: \"bad name\" may only contain"), std::string::npos);
  c = basic_link();
  c.a.mtu = 67;
  EXPECT_EQ(link_error(c), "link wire: a.mtu: must be in [68, 65521], got 67");
  c = basic_link();
  c.b.mac = wire::MacAddress::broadcast();
  EXPECT_NE(link_error(c).find("link wire: b.mac: ff:ff:ff:ff:ff:ff is a group address"), std::string::npos);
  c = basic_link();
  c.b.rx_queue_frames = 0;
  EXPECT_EQ(link_error(c), "link wire: b.rx_queue_frames: must be at least 1");
  c = basic_link();
  c.b.name = "a";
  EXPECT_EQ(link_error(c), "link wire: b.name: \"a\" is also the name of port a");
  c = basic_link();
  c.b.mac = mac_from_name("a");
  EXPECT_NE(link_error(c).find("link wire: b.mac: "), std::string::npos);
  c = basic_link();
  c.a_to_b.loss_probability = 1.5;
  EXPECT_EQ(link_error(c).rfind("link wire: a_to_b.loss_probability: ", 0), 0u) << link_error(c);
  c = basic_link();
  c.b_to_a.delay_one_way = Duration::milliseconds(-1);
  EXPECT_EQ(link_error(c).rfind("link wire: b_to_a.delay_one_way: ", 0), 0u) << link_error(c);
  c = basic_link();
  c.b_to_a.mtu = 40;
  EXPECT_EQ(link_error(c).rfind("link wire: b_to_a.mtu: ", 0), 0u) << link_error(c);
  c = basic_link();
  c.in_flight_frames_max = 1;
  EXPECT_EQ(link_error(c), "link wire: in_flight_frames_max: must be at least 2, got 1");
}

}  // namespace
}  // namespace tapstack::sim
