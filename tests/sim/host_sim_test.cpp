// Two IPv4 stacks on a simulated Ethernet segment (sim::World + StackHost)
// under loss, duplication, reordering and corruption:
//   - ARP resolution converges (each host ends with the other's MAC),
//   - fragmented pings (8000 data bytes) complete with their data intact,
//   - UDP datagrams (1..3000 bytes, many fragmented) sent to an echo server
//     are either delivered intact or lost, and every loss is accounted for by
//     a wire drop (sim counters) or a stack drop counter; a datagram is never
//     delivered corrupted: with bit flips on, checksums catch them, counted.
//
// Every run prints its seed. A failing run prints the command that replays it:
//   TAPSTACK_HOST_SIM_ARGS='--seed=7 --lan-loss-probability=0.05 ...' host_sim_test --gtest_filter=HostSim.Replay

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "sim/replay.hpp"
#include "sim/stack_host.hpp"
#include "sim/world.hpp"
#include "stack/stack.hpp"

namespace tapstack::sim {
namespace {

constexpr wire::Ipv4Address kIpA = wire::Ipv4Address::from_octets(10, 0, 0, 1);
constexpr wire::Ipv4Address kIpB = wire::Ipv4Address::from_octets(10, 0, 0, 2);
constexpr std::uint16_t kEchoPort = 7;
constexpr std::uint16_t kPingId = 0x5151;
constexpr const char* kArgsEnv = "TAPSTACK_HOST_SIM_ARGS";

struct HostSimOptions {
  std::uint64_t seed = 1;
  LinkFaults lan;                     // every cable, both directions
  std::uint32_t pings = 4;
  std::uint64_t ping_size = 8000;     // echo data bytes: 6 fragments each way at MTU 1500
  std::uint32_t datagrams = 150;
  std::uint64_t datagram_size_max = 3000;
  Duration ping_retry = Duration::milliseconds(300);
  Duration datagram_interval = Duration::milliseconds(2);
  Duration reassembly_timeout = Duration::seconds(2);
  Duration time_max = Duration::seconds(300);
};

void bind_options(OptionTable& table, HostSimOptions& o) {
  table.add("--seed", o.seed, "master seed");
  bind_fault_options(table, "--lan-", o.lan, "segment cables: ");
  table.add("--pings", o.pings, "fragmented pings to complete");
  table.add("--ping-size", o.ping_size, "echo data bytes per ping");
  table.add("--datagrams", o.datagrams, "UDP datagrams to send");
  table.add("--datagram-size-max", o.datagram_size_max, "largest UDP payload");
  table.add("--ping-retry", o.ping_retry, "ping retransmission timeout");
  table.add("--datagram-interval", o.datagram_interval, "pause between UDP datagrams");
  table.add("--reassembly-timeout", o.reassembly_timeout, "both stacks' reassembly timeout");
  table.add("--time-max", o.time_max, "virtual time the run may take");
}

// Payloads that say what they should be: 4 bytes of sequence number, then bytes derived from it.
std::size_t datagram_size(std::uint32_t seq, std::uint64_t size_max) {
  return 4 + static_cast<std::size_t>((std::uint64_t{seq} * 977) % (size_max - 3));
}

ByteVector datagram_payload(std::uint32_t seq, std::uint64_t size_max) {
  ByteVector out(datagram_size(seq, size_max));
  store_be32(out, 0, seq);
  for (std::size_t i = 4; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((i * 31 + seq * 7) & 0xff);
  }
  return out;
}

ByteVector ping_data(std::uint16_t seq, std::size_t size) {
  ByteVector out(size);
  for (std::size_t i = 0; i < size; ++i) {
    out[i] = static_cast<std::byte>((i * 13 + seq) & 0xff);
  }
  return out;
}

StackConfig host_config(wire::Ipv4Address address, const HostSimOptions& o) {
  StackConfig config;
  config.interface.address = address;  // the MAC comes from the port
  config.interface.prefix_len = 24;
  config.reassembly.timeout = o.reassembly_timeout;
  return config;
}

// Counters that mean "something arriving was dropped" (a superset is harmless: it only loosens
// the accounting bound below).
bool is_rx_drop_counter(std::string_view name) {
  for (std::string_view word : {"bad_", "truncated", "not_for_us", "not_joined", "malformed", "unknown_",
                                "ttl_zero", "dropped", "timeouts", "queue_full", "queue_bytes_full", "no_port",
                                "unsupported", "own_", "vlan", "unicast_in_link", "conflicts"}) {
    if (name.find(word) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::uint64_t rx_drops(const Stack& stack) {
  std::uint64_t sum = 0;
  stack.visit_counters([&](std::string_view name, std::uint64_t value) {
    if (is_rx_drop_counter(name)) {
      sum += value;
    }
  });
  return sum;
}

std::uint64_t checksum_failures(const Stack& stack) {
  return *stack.counter("ip.rx_bad_checksum") + *stack.counter("udp.rx_bad_checksum") +
         *stack.counter("icmp.rx_bad_checksum");
}

std::uint64_t wire_drops(const Channel& c) {
  const FaultCounters& f = c.counters();
  return f.lost + f.burst_lost + f.queue_full + f.too_big + f.partitioned;
}

struct Outcome {
  std::string failure;  // empty: every check held
  std::uint32_t pings_completed = 0;
  std::uint64_t ping_attempts = 0;
  std::uint64_t corrupt_seen = 0;  // payloads delivered to an application that were wrong
  std::set<std::uint32_t> at_b;    // datagrams B received (intact)
  std::set<std::uint32_t> at_a;    // echoes A received (intact)
  std::uint64_t checksum_failures = 0;
  std::uint64_t frames_corrupted = 0;
  std::string counters;
};

Outcome run(const HostSimOptions& o) {
  Outcome out;
  auto fail_with = [&out](std::string why) {
    if (out.failure.empty()) {
      out.failure = std::move(why);
    }
  };
  WorldConfig world_config;
  world_config.seed = o.seed;
  auto world = World::create(world_config);
  if (!world.ok()) {
    fail_with("world: " + world.error());
    return out;
  }
  SegmentConfig lan;
  lan.name = "lan";
  for (const char* name : {"a", "b"}) {
    SegmentPortConfig port;
    port.port.name = name;
    port.to_switch = o.lan;
    port.from_switch = o.lan;
    lan.ports.push_back(port);
  }
  auto segment = (*world)->add_segment(lan);
  if (!segment.ok()) {
    fail_with("segment: " + segment.error());
    return out;
  }
  Segment& seg = **segment;
  auto a = (*world)->emplace_host<StackHost>("a", seg.port(0), host_config(kIpA, o));
  auto b = (*world)->emplace_host<StackHost>("b", seg.port(1), host_config(kIpB, o));
  if (!a.ok() || !b.ok()) {
    fail_with("hosts could not be added");
    return out;
  }
  StackHost& host_a = **a;
  StackHost& host_b = **b;

  // B: UDP echo server; checks what it receives.
  const UdpSocketId echo = *host_b.stack().udp_bind(kEchoPort);
  host_b.set_app([&](Stack& stack, Instant) {
    while (auto d = stack.udp_receive(echo)) {
      const std::uint32_t seq = d->payload.size() >= 4 ? load_be32(d->payload, 0) : 0;
      if (seq == 0 || seq > o.datagrams || d->payload != datagram_payload(seq, o.datagram_size_max)) {
        out.corrupt_seen++;
        continue;
      }
      out.at_b.insert(seq);
      (void)stack.udp_send_to(echo, d->source, d->source_port, as_bytes(d->payload));
    }
    return Instant::never();
  });

  // A: fragmented pings (stop and wait, retransmitted), then a stream of UDP datagrams.
  const UdpSocketId client = *host_a.stack().udp_bind(0);
  std::uint16_t ping_seq = 1;
  bool outstanding = false;
  Instant ping_sent;
  std::uint32_t next_datagram = 1;
  Instant next_datagram_at;
  host_a.set_app([&](Stack& stack, Instant now) {
    while (auto reply = stack.take_echo_reply()) {
      if (reply->id != kPingId) {
        continue;
      }
      if (reply->data != ping_data(reply->seq, o.ping_size)) {
        out.corrupt_seen++;
        continue;
      }
      if (outstanding && reply->seq == ping_seq) {
        outstanding = false;
        out.pings_completed++;
        ping_seq++;
      }
    }
    while (auto d = stack.udp_receive(client)) {
      const std::uint32_t seq = d->payload.size() >= 4 ? load_be32(d->payload, 0) : 0;
      if (seq == 0 || seq > o.datagrams || d->payload != datagram_payload(seq, o.datagram_size_max) ||
          d->source != kIpB || d->source_port != kEchoPort) {
        out.corrupt_seen++;
        continue;
      }
      out.at_a.insert(seq);
    }
    if (out.pings_completed < o.pings) {
      if (!outstanding || now >= ping_sent + o.ping_retry) {
        const ByteVector data = ping_data(ping_seq, o.ping_size);
        (void)stack.send_echo_request(kIpB, kPingId, ping_seq, as_bytes(data));
        out.ping_attempts++;
        outstanding = true;
        ping_sent = now;
        next_datagram_at = now;
      }
      return ping_sent + o.ping_retry;
    }
    if (next_datagram <= o.datagrams) {
      if (now >= next_datagram_at) {
        const ByteVector payload = datagram_payload(next_datagram, o.datagram_size_max);
        (void)stack.udp_send_to(client, kIpB, kEchoPort, as_bytes(payload));
        next_datagram++;
        next_datagram_at = now + o.datagram_interval;
      }
      return next_datagram <= o.datagrams ? next_datagram_at : Instant::never();
    }
    return Instant::never();
  });

  // Run until the pings are done and the datagrams sent, then a quiet second for the last echoes.
  const Instant limit = (*world)->now() + o.time_max;
  RunResult result = (*world)->run_until(limit, [&] { return out.pings_completed == o.pings && next_datagram > o.datagrams; });
  if (result.bounded()) {
    fail_with(std::string("run stopped by a bound: ") + to_string(result.stop));
  }
  (void)(*world)->run_for(Duration::seconds(1) + o.reassembly_timeout);

  // ---- checks ----
  std::ostringstream counters;
  for (StackHost* host : {&host_a, &host_b}) {
    host->stack().visit_counters([&](std::string_view name, std::uint64_t value) {
      if (value != 0) {
        counters << host->name() << "." << name << " = " << value << "\n";
      }
    });
  }
  counters << (*world)->counters_report();
  out.counters = counters.str();
  out.checksum_failures = checksum_failures(host_a.stack()) + checksum_failures(host_b.stack());
  for (const Channel* c : (*world)->channels()) {
    out.frames_corrupted += c->counters().corrupted;
  }

  if (out.pings_completed != o.pings) {
    fail_with("pings completed: " + std::to_string(out.pings_completed) + " of " + std::to_string(o.pings));
  }
  if (out.corrupt_seen != 0) {
    fail_with("corrupted payloads delivered to applications: " + std::to_string(out.corrupt_seen));
  }
  // ARP converged: each host resolved the other, to the right address.
  if (host_a.stack().arp_cache().lookup(kIpB, (*world)->now()) != seg.port(1).mac()) {
    fail_with("host a did not resolve b");
  }
  if (host_b.stack().arp_cache().lookup(kIpA, (*world)->now()) != seg.port(0).mac()) {
    fail_with("host b did not resolve a");
  }
  // Every datagram B missed is accounted for: lost on a cable towards B or dropped (counted) by a
  // stack (a datagram is several frames when fragmented, so this is a bound, not an equality).
  const std::uint64_t missing_at_b = o.datagrams - out.at_b.size();
  const std::uint64_t accounted = wire_drops(seg.to_switch(0)) + wire_drops(seg.from_switch(1)) +
                                  rx_drops(host_b.stack()) + rx_drops(host_a.stack());
  if (missing_at_b > accounted) {
    fail_with("datagrams missing at b: " + std::to_string(missing_at_b) + ", drops accounted for: " +
              std::to_string(accounted));
  }
  if (!out.at_a.empty() && !std::includes(out.at_b.begin(), out.at_b.end(), out.at_a.begin(), out.at_a.end())) {
    fail_with("a received echoes of datagrams b never received");
  }
  const std::size_t memory_a = host_a.stack().memory_held();
  const std::size_t memory_b = host_b.stack().memory_held();
  if (memory_a > host_a.stack().memory_limit() || memory_b > host_b.stack().memory_limit()) {
    fail_with("memory over the configured limits");
  }
  return out;
}

// Runs the options, prints the seed, and on failure the command that replays the run.
Outcome run_and_report(const HostSimOptions& options) {
  HostSimOptions bound;
  OptionTable table;
  bind_options(table, bound);
  bound = options;
  std::cout << "seed: " << options.seed << "\n";
  Outcome outcome = run(options);
  std::cout << "  pings " << outcome.pings_completed << " (" << outcome.ping_attempts << " sent), datagrams at b "
            << outcome.at_b.size() << ", echoes at a " << outcome.at_a.size() << ", frames corrupted "
            << outcome.frames_corrupted << ", checksum failures " << outcome.checksum_failures << "\n";
  if (!outcome.failure.empty()) {
    std::vector<std::string> args = table.changed();
    if (options.seed == HostSimOptions{}.seed) {
      args.insert(args.begin(), "--seed=" + std::to_string(options.seed));
    }
    std::string joined;
    for (const std::string& arg : args) {
      joined += (joined.empty() ? "" : " ") + arg;
    }
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    ADD_FAILURE() << outcome.failure << " (test " << test->test_suite_name() << "." << test->name()
                  << ")\nreplay: " << kArgsEnv << "=" << shell_quote(joined)
                  << " host_sim_test --gtest_filter=HostSim.Replay\n"
                  << outcome.counters;
  }
  return outcome;
}

HostSimOptions faulty(std::uint64_t seed) {
  HostSimOptions o;
  o.seed = seed;
  o.lan.loss_probability = 0.02;
  o.lan.duplicate_probability = 0.05;
  o.lan.reorder_probability = 0.05;
  o.lan.reorder_delay = Duration::milliseconds(3);
  o.lan.jitter_max = Duration::microseconds(200);
  return o;
}

TEST(HostSim, CleanSegmentDeliversEverything) {
  const Outcome out = run_and_report(HostSimOptions{});
  EXPECT_EQ(out.ping_attempts, HostSimOptions{}.pings);  // nothing to retransmit
  EXPECT_EQ(out.at_b.size(), HostSimOptions{}.datagrams);
  EXPECT_EQ(out.at_a.size(), HostSimOptions{}.datagrams);
}

TEST(HostSim, LossDuplicationAndReordering) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const Outcome out = run_and_report(faulty(seed));
    // The faults did something, and most datagrams still made it.
    EXPECT_GT(out.ping_attempts, HostSimOptions{}.pings) << "seed " << seed;
    EXPECT_GT(out.at_b.size(), HostSimOptions{}.datagrams / 2) << "seed " << seed;
  }
}

TEST(HostSim, HeavyLossStillConverges) {
  HostSimOptions o;
  o.seed = 11;
  o.lan.loss_probability = 0.15;
  o.pings = 3;
  o.ping_size = 2000;
  o.datagrams = 40;
  const Outcome out = run_and_report(o);
  EXPECT_GT(out.ping_attempts, o.pings);
}

TEST(HostSim, CorruptionIsCaughtByChecksumsAndCounted) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    HostSimOptions o;
    o.seed = seed;
    // One flipped bit per corrupted copy: the Internet checksum detects every single-bit error
    // (RFC 1071), so nothing corrupted may reach an application. (The simulator models no
    // Ethernet FCS; two flips can cancel in a ones' complement sum.)
    o.lan.corrupt_probability = 0.1;
    o.lan.corrupt_bits_max = 1;
    const Outcome out = run_and_report(o);
    EXPECT_GT(out.frames_corrupted, 0u) << "seed " << seed;
    EXPECT_GT(out.checksum_failures, 0u) << "seed " << seed;
    EXPECT_EQ(out.corrupt_seen, 0u) << "seed " << seed;
  }
}

// Replays a failing run: the options come from TAPSTACK_HOST_SIM_ARGS (see the file comment).
TEST(HostSim, Replay) {
  const char* env = std::getenv(kArgsEnv);
  if (env == nullptr) {
    GTEST_SKIP() << kArgsEnv << " is not set";
  }
  HostSimOptions options;
  OptionTable table;
  bind_options(table, options);
  std::vector<std::string> words;
  std::istringstream in{std::string(env)};
  for (std::string word; in >> word;) {
    words.push_back(word);
  }
  std::vector<std::string_view> views(words.begin(), words.end());
  auto parsed = table.parse(views);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  (void)run_and_report(options);
}

}  // namespace
}  // namespace tapstack::sim
