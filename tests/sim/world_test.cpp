#include "sim/world.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sim/test_hosts.hpp"

namespace tapstack::sim {
namespace {

Instant at_ms(std::int64_t ms) { return Instant::epoch() + Duration::milliseconds(ms); }

std::unique_ptr<World> make_world(std::uint64_t seed = 1) {
  WorldConfig config;
  config.seed = seed;
  auto world = World::create(config);
  if (!world.ok()) {
    ADD_FAILURE() << world.error();
    std::abort();
  }
  return std::move(*world);
}

LinkConfig link_config(const std::string& name, const std::string& a, const std::string& b) {
  LinkConfig config;
  config.name = name;
  config.a.name = a;
  config.b.name = b;
  return config;
}

Link& add_link(World& world, const LinkConfig& config) {
  auto link = world.add_link(config);
  if (!link.ok()) {
    ADD_FAILURE() << link.error();
    std::abort();
  }
  return **link;
}

// ---- seeds ----

TEST(WorldSeeds, StreamIdsAreFnv1a64OfTheStableName) {
  EXPECT_EQ(World::stream_id(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(World::stream_id("a"), 0xaf63dc4c8601ec8cULL);  // the FNV-1a test vector
}

TEST(WorldSeeds, HostSeedsDependOnlyOnTheMasterSeedAndTheName) {
  auto world = make_world(42);
  EXPECT_EQ(world->host_seed("alice"), derive_seed(42, World::stream_id("host/alice")));
  EXPECT_NE(world->host_seed("alice"), world->host_seed("bob"));
  EXPECT_NE(world->host_seed("alice"), make_world(43)->host_seed("alice"));
  EXPECT_EQ(world->host_seed("alice"), make_world(42)->host_seed("alice"));
}

// What a world does to 200 frames sent over link "x" (a fault pattern).
std::vector<std::uint64_t> fault_pattern_of_x(bool with_another_link) {
  auto world = make_world(7);
  LinkConfig x = link_config("x", "xa", "xb");
  x.a_to_b.loss_probability = 0.3;
  x.a_to_b.jitter_max = Duration::microseconds(500);
  Link* other = nullptr;
  if (with_another_link) {
    // Added first and busy: it must not change x's draws.
    LinkConfig y = link_config("y", "ya", "yb");
    y.a_to_b.loss_probability = 0.5;
    other = &add_link(*world, y);
  }
  Link& link = add_link(*world, x);
  ByteVector frame(60);
  std::vector<std::uint64_t> pattern;
  for (int i = 0; i < 200; ++i) {
    if (other != nullptr) {
      EXPECT_TRUE(*other->a().transmit(as_bytes(frame)));
    }
    EXPECT_TRUE(*link.a().transmit(as_bytes(frame)));
    (void)world->run_for(Duration::milliseconds(2));
    link::FrameBatch batch(8, 1514);
    auto got = link.b().receive(batch);
    pattern.push_back(got.ok() ? *got : 99);
  }
  pattern.push_back(link.a_to_b().counters().lost);
  return pattern;
}

TEST(WorldSeeds, AddingALinkDoesNotPerturbAnother) {
  const std::vector<std::uint64_t> alone = fault_pattern_of_x(false);
  EXPECT_EQ(fault_pattern_of_x(true), alone);
  EXPECT_GT(alone.back(), 30u);  // the pattern does have losses in it
}

// ---- driving hosts ----

// Records every call; poll() returns the next deadline from a script.
class ScriptedHost final : public Host {
 public:
  explicit ScriptedHost(std::vector<Instant> deadlines) : deadlines_(std::move(deadlines)) {}
  void receive(Bytes frame, Instant now) override {
    calls.push_back("receive " + std::to_string(frame.size()) + " @" + std::to_string(now.ns()));
  }
  Instant poll(Instant now) override {
    calls.push_back("poll @" + std::to_string(now.ns()));
    if (next_ < deadlines_.size()) {
      return deadlines_[next_++];
    }
    return Instant::never();
  }
  std::vector<std::string> calls;

 private:
  std::vector<Instant> deadlines_;
  std::size_t next_ = 0;
};

TEST(WorldHosts, AHostIsPolledWhenAddedAndAtEachDeadlineItReturns) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  auto* host = new ScriptedHost({at_ms(5), at_ms(9), Instant::never()});
  ASSERT_TRUE(world->add_host("h", link.a(), std::unique_ptr<Host>(host)).ok());
  EXPECT_TRUE(host->calls.empty());  // polled through the scheduler, not inside add_host
  const RunResult run = world->run_until(at_ms(100));
  EXPECT_EQ(run.stop, RunStop::Deadline);
  EXPECT_EQ(run.now, at_ms(100));
  EXPECT_EQ(host->calls, (std::vector<std::string>{"poll @0", "poll @5000000", "poll @9000000"}));
}

TEST(WorldHosts, AFrameIsReceivedThenPolledAndOnlyTheLatestDeadlineCounts) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  // First poll (t=0) asks for t=50ms; the poll after the frame (t=1ms) asks
  // for t=3ms, replacing it; the one at 3ms asks for nothing more.
  auto* host = new ScriptedHost({at_ms(50), at_ms(3), Instant::never()});
  ASSERT_TRUE(world->add_host("h", link.b(), std::unique_ptr<Host>(host)).ok());
  (void)world->run_until(at_ms(0));
  ByteVector frame(60);
  ASSERT_TRUE(*link.a().transmit(as_bytes(frame)));  // arrives at 1 ms
  (void)world->run_until(at_ms(100));
  EXPECT_EQ(host->calls, (std::vector<std::string>{"poll @0", "receive 60 @1000000", "poll @1000000",
                                                   "poll @3000000"}));
  EXPECT_EQ(world->scheduler().pending(), 0u);
}

TEST(WorldHosts, ADeadlineInThePastMeansPollAgainNow) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  (void)world->run_until(at_ms(10));
  auto* host = new ScriptedHost({at_ms(2), Instant::never()});
  ASSERT_TRUE(world->add_host("h", link.a(), std::unique_ptr<Host>(host)).ok());
  (void)world->run_until(at_ms(20));
  EXPECT_EQ(host->calls, (std::vector<std::string>{"poll @10000000", "poll @10000000"}));
}

// A host that always wants to be polled again right away.
class BusyHost final : public Host {
 public:
  void receive(Bytes, Instant) override {}
  Instant poll(Instant now) override { return now; }
};

TEST(WorldBounds, AHostPollingForeverAtOneInstantStallsTheRun) {
  WorldConfig config;
  config.same_instant_events_max = 1000;
  auto world = World::create(config).value();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  ASSERT_TRUE(world->add_host("busy", link.a(), std::make_unique<BusyHost>()).ok());
  const RunResult run = world->run_until(at_ms(10));
  EXPECT_EQ(run.stop, RunStop::Stalled);
  EXPECT_TRUE(run.bounded());
  EXPECT_EQ(run.events, 1000u);
  EXPECT_EQ(run.now, at_ms(0));
}

TEST(WorldBounds, TheEventBudgetStopsARun) {
  WorldConfig config;
  config.events_per_run_max = 50;
  auto world = World::create(config).value();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  FloodConfig flood;
  flood.frames = 1000;
  ASSERT_TRUE(world->emplace_host<FloodSender>("flood", link.a(), flood).ok());
  const RunResult run = world->run_until(Instant::never());
  EXPECT_EQ(run.stop, RunStop::EventBudget);
  EXPECT_EQ(run.events, 50u);
}

TEST(WorldBounds, RunUntilNeverStopsWhenIdle) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  ASSERT_TRUE(*link.a().transmit(as_bytes(ByteVector(60))));
  const RunResult run = world->run_until(Instant::never());
  EXPECT_EQ(run.stop, RunStop::Idle);
  EXPECT_EQ(run.now, at_ms(1));
  EXPECT_EQ(run.events, 1u);
}

TEST(WorldBounds, ADonePredicateStopsTheRun) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  PingConfig ping;
  ping.peer = link.b().mac();
  ping.count = 3;
  auto pinger = world->emplace_host<PingHost>("ping", link.a(), ping);
  ASSERT_TRUE(world->emplace_host<PongHost>("pong", link.b()).ok());
  ASSERT_TRUE(pinger.ok());
  PingHost* p = *pinger;
  const RunResult run = world->run_until(at_ms(1000), [p] { return p->done(); });
  EXPECT_EQ(run.stop, RunStop::Done);
  EXPECT_EQ(run.now, at_ms(6));  // three round trips of 2 ms
  EXPECT_EQ(p->stats().rtt_min, Duration::milliseconds(2));
  EXPECT_EQ(p->stats().rtt_max, Duration::milliseconds(2));
}

// ---- configuration ----

TEST(WorldConfig, BadOptionsAreRejectedNamingTheOption) {
  WorldConfig c;
  c.events_per_run_max = 0;
  EXPECT_EQ(World::create(c).error(), "world.events_per_run_max: must be at least 1");
  c = WorldConfig{};
  c.same_instant_events_max = 0;
  EXPECT_EQ(World::create(c).error(), "world.same_instant_events_max: must be at least 1");
  c = WorldConfig{};
  c.start = Instant::from_ns(-1);
  EXPECT_EQ(World::create(c).error().rfind("world.start: ", 0), 0u);
  c = WorldConfig{};
  c.recording.pcap_point = "";
  EXPECT_EQ(World::create(c).error().rfind("recording.pcap_point: ", 0), 0u);
  c = WorldConfig{};
  c.recording.log_path = "/nonexistent-dir/x.log";
  EXPECT_EQ(World::create(c).error(), "recording.log_path: cannot create /nonexistent-dir/x.log");
}

TEST(WorldConfig, NamesMustBeUniqueAndPortsBelongToTheWorld) {
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  EXPECT_EQ(world->add_link(link_config("l", "c", "d")).error(), "link.name: \"l\" is already the name of a link");
  EXPECT_EQ(world->add_link(link_config("m", "c", "a")).error(),
            "link m: port name \"a\" is already used in this world");
  SegmentConfig segment;
  segment.name = "l";
  segment.ports = {SegmentPortConfig{PortConfig{.name = "s0"}, {}, {}},
                   SegmentPortConfig{PortConfig{.name = "s1"}, {}, {}}};
  EXPECT_EQ(world->add_segment(segment).error(), "segment.name: \"l\" is already the name of a link");
  ASSERT_TRUE(world->emplace_host<PongHost>("h", link.a()).ok());
  EXPECT_EQ(world->emplace_host<PongHost>("h", link.b()).error(), "host.name: \"h\" is already the name of a host");
  EXPECT_EQ(world->emplace_host<PongHost>("h2", link.a()).error(), "host h2: port \"a\" already has a host");
  EXPECT_EQ(world->emplace_host<PongHost>("bad name", link.b()).error().rfind("host.name: ", 0), 0u);
  auto elsewhere = make_world();
  Link& foreign = add_link(*elsewhere, link_config("l", "a", "b"));
  EXPECT_EQ(world->emplace_host<PongHost>("h3", foreign.b()).error(),
            "host h3: port \"b\" is not a port of this world");
  EXPECT_EQ(world->find_port("b"), &link.b());
  EXPECT_EQ(world->find_link("l"), &link);
  EXPECT_EQ(world->find_port("zz"), nullptr);
  EXPECT_NE(world->find_host("h"), nullptr);
}

TEST(WorldConfig, TestHostOptionsAreValidated) {
  PingConfig ping;
  ping.count = 0;
  EXPECT_EQ(ping.validate().error(), "ping.count: must be at least 1");
  ping = PingConfig{};
  ping.frame_len = 27;
  EXPECT_EQ(ping.validate().error(), "ping.frame_len: must be in [28, 65535], got 27");
  ping = PingConfig{};
  ping.retry_timeout = Duration::zero();
  EXPECT_EQ(ping.validate().error(), "ping.retry_timeout: must be above 0, got 0 ns");
  FloodConfig flood;
  flood.burst = 0;
  EXPECT_EQ(flood.validate().error(), "flood.burst: must be at least 1");
  flood = FloodConfig{};
  flood.frames = 1ULL << 32;
  EXPECT_EQ(flood.validate().error().rfind("flood.frames: ", 0), 0u);
  auto world = make_world();
  Link& link = add_link(*world, link_config("l", "a", "b"));
  flood = FloodConfig{};
  flood.interval = Duration::milliseconds(-1);
  EXPECT_THROW((void)world->emplace_host<FloodSender>("f", link.a(), flood), std::invalid_argument);
}

// ---- test hosts ----

TEST(TestHosts, TestFramesRoundTripAndCorruptionIsDetected) {
  ByteVector frame(64);
  const TestFrame header{mac_from_name("x"), mac_from_name("y"), TestFrameKind::Flood, 0xdeadbeef};
  const ByteVector padding{std::byte{1}, std::byte{2}, std::byte{3}};
  emit_test_frame(frame, header, as_bytes(padding));
  auto parsed = parse_test_frame(as_bytes(frame));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->seq, 0xdeadbeefu);
  EXPECT_EQ(parsed->kind, TestFrameKind::Flood);
  EXPECT_EQ(parsed->destination, header.destination);
  EXPECT_EQ(parsed->source, header.source);
  // Every single-bit flip outside the EtherType is caught by the check.
  for (std::size_t bit = 0; bit < frame.size() * 8; ++bit) {
    ByteVector bad = frame;
    bad[bit / 8] ^= static_cast<std::byte>(0x80 >> (bit % 8));
    auto result = parse_test_frame(as_bytes(bad));
    ASSERT_FALSE(result.ok()) << "bit " << bit;
    const bool in_ethertype = bit / 8 == 12 || bit / 8 == 13;
    EXPECT_EQ(result.error(), in_ethertype ? TestFrameError::NotTestFrame : TestFrameError::BadCheck) << bit;
  }
  EXPECT_EQ(parse_test_frame(as_bytes(ByteVector(27))).error(), TestFrameError::NotTestFrame);
}

TEST(TestHosts, PingPongCompletesUnderLossWithBoundedRetries) {
  auto world = make_world(3);
  LinkConfig config = link_config("l", "a", "b");
  config.a_to_b.loss_probability = 0.3;
  config.b_to_a.loss_probability = 0.3;
  Link& link = add_link(*world, config);
  PingConfig ping;
  ping.peer = link.b().mac();
  ping.count = 50;
  ping.retry_timeout = Duration::milliseconds(5);
  ping.retries_max = 20;
  PingHost* pinger = *world->emplace_host<PingHost>("ping", link.a(), ping);
  PongHost* ponger = *world->emplace_host<PongHost>("pong", link.b());
  const RunResult run = world->run_until(at_ms(10'000), [pinger] { return pinger->done() || pinger->failed(); });
  ASSERT_EQ(run.stop, RunStop::Done);
  EXPECT_TRUE(pinger->done());
  EXPECT_FALSE(pinger->failed());
  EXPECT_GT(pinger->stats().retransmitted, 10u);  // the loss was felt
  EXPECT_EQ(pinger->stats().sent, 50u + pinger->stats().retransmitted);
  EXPECT_EQ(pinger->stats().sent, link.a_to_b().counters().offered);
  EXPECT_EQ(ponger->stats().pings, link.a_to_b().counters().delivered);
  EXPECT_EQ(ponger->stats().pongs, link.b_to_a().counters().offered);
  EXPECT_EQ(pinger->stats().completed + pinger->stats().stale, link.b_to_a().counters().delivered);
}

TEST(TestHosts, PingGivesUpAfterRetriesMaxOnADeadLink) {
  auto world = make_world();
  LinkConfig config = link_config("l", "a", "b");
  config.a_to_b.loss_probability = 1.0;
  Link& link = add_link(*world, config);
  PingConfig ping;
  ping.peer = link.b().mac();
  ping.retries_max = 4;
  ping.retry_timeout = Duration::milliseconds(10);
  PingHost* pinger = *world->emplace_host<PingHost>("ping", link.a(), ping);
  ASSERT_TRUE(world->emplace_host<PongHost>("pong", link.b()).ok());
  const RunResult run = world->run_until(Instant::never());
  EXPECT_EQ(run.stop, RunStop::Idle);
  EXPECT_TRUE(pinger->failed());
  EXPECT_EQ(pinger->stats().sent, 5u);
  EXPECT_EQ(run.now, at_ms(50));  // the original at 0, retransmissions at 10..40, given up at 50
}

TEST(TestHosts, FloodCountsMatchTheLinkCounters) {
  auto world = make_world(11);
  LinkConfig config = link_config("l", "a", "b");
  config.a_to_b.loss_probability = 0.05;
  config.a_to_b.duplicate_probability = 0.05;
  config.a_to_b.corrupt_probability = 0.05;
  config.a_to_b.corrupt_bits_max = 4;
  config.a_to_b.reorder_probability = 0.05;
  config.a_to_b.jitter_max = Duration::microseconds(30);
  Link& link = add_link(*world, config);
  FloodConfig flood;
  flood.destination = link.b().mac();
  flood.frames = 5000;
  flood.burst = 4;
  flood.interval = Duration::microseconds(40);
  FloodSender* sender = *world->emplace_host<FloodSender>("flood", link.a(), flood);
  FloodSink* sink = *world->emplace_host<FloodSink>("sink", link.b(), FloodSinkConfig{.frames_expected = 5000});
  const RunResult run = world->run_until(Instant::never());
  ASSERT_EQ(run.stop, RunStop::Idle);
  const FaultCounters& c = link.a_to_b().counters();
  const FloodSinkStats& s = sink->stats();
  EXPECT_EQ(sender->stats().sent, 5000u);
  EXPECT_EQ(c.offered, 5000u);
  EXPECT_EQ(s.received, c.delivered);
  EXPECT_EQ(s.corrupt + s.foreign, c.corrupted);
  EXPECT_EQ(s.unique + s.duplicates, c.delivered - c.corrupted);
  EXPECT_GT(s.out_of_order, 0u);
  EXPECT_GT(s.duplicates, 0u);
  EXPECT_LE(s.unique, 5000u - c.lost);
  EXPECT_EQ(link.b().counters().rx_frames, c.delivered);
  // The sink's hello went the other way.
  EXPECT_EQ(link.b_to_a().counters().offered, 1u);
}

TEST(WorldReport, CountersCoverEveryWirePortAndSwitch) {
  auto world = make_world();
  add_link(*world, link_config("l", "a", "b"));
  SegmentConfig segment;
  segment.name = "s";
  segment.ports = {SegmentPortConfig{PortConfig{.name = "s0"}, {}, {}},
                   SegmentPortConfig{PortConfig{.name = "s1"}, {}, {}}};
  ASSERT_TRUE(world->add_segment(segment).ok());
  ASSERT_TRUE(*world->find_port("a")->transmit(as_bytes(ByteVector(60))));
  (void)world->run_for(Duration::seconds(1));
  const std::string report = world->counters_report();
  EXPECT_NE(report.find("port a tx_frames=1 tx_bytes=60 "), std::string::npos) << report;
  EXPECT_NE(report.find("wire l:a>b offered=1 delivered=1 lost=0 burst_lost=0 queue_full=0 too_big=0 "
                        "partitioned=0 duplicated=0 reordered=0 corrupted=0 queue_bytes_peak=0 in_flight=0\n"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("wire l:b>a offered=0"), std::string::npos);
  EXPECT_NE(report.find("wire s:s0>switch offered=0"), std::string::npos);
  EXPECT_NE(report.find("wire s:switch>s1 offered=0"), std::string::npos);
  EXPECT_NE(report.find("switch s frames_in=0"), std::string::npos);
  EXPECT_EQ(world->channels().size(), 6u);
  EXPECT_EQ(world->total_fault_counters().offered, 1u);
}

}  // namespace
}  // namespace tapstack::sim
