#pragma once
// Simple hosts that exchange raw Ethernet frames, to exercise the simulator
// before (and alongside) the IP and TCP stack:
//
//   PingHost / PongHost     stop-and-wait ping-pong with sequence numbers;
//                           the pinger retransmits after a timeout, a
//                           bounded number of times per ping
//   FloodSender / FloodSink a stream of numbered frames and a sink that
//                           counts what arrives: valid, corrupted, duplicated,
//                           out of order, foreign
//
// plus the standard scenario (ping-pong and flood over faulty links and over a
// segment) that the determinism tests and tests/sim/sim_probe run.
//
// Test frame layout (EtherType 0x88b5, IEEE 802 "Local Experimental
// EtherType 1", reserved for exactly this kind of use):
//
//   [0, 14)          Ethernet header
//   [14]             kind: 1 ping, 2 pong, 3 flood, 4 hello
//   [15]             0
//   [16, 20)         sequence number, big-endian
//   [20, len - 8)    padding: random bytes, fixed per host (from its seed)
//   [len - 8, len)   check: a 64-bit hash of bytes [0, len - 8)
//
// The check detects every corruption confined to one aligned 8-byte word
// with certainty (each hash step is a bijection), and others but with
// probability 2^-64, so a sink's count of corrupted frames equals the wire's.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/host.hpp"
#include "sim/link_faults.hpp"
#include "sim/world.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::sim {

class OptionTable;

// ---- test frames ----

inline constexpr std::uint16_t kTestEtherType = 0x88b5;
inline constexpr std::size_t kTestFrameLenMin = 28;     // header, kind, seq, check
inline constexpr std::size_t kTestFrameLenMax = 65535;  // bounded by the largest port MTU anyway

enum class TestFrameKind : std::uint8_t { Ping = 1, Pong = 2, Flood = 3, Hello = 4 };

struct TestFrame {
  wire::MacAddress destination;
  wire::MacAddress source;
  TestFrameKind kind = TestFrameKind::Ping;
  std::uint32_t seq = 0;
};

enum class TestFrameError : std::uint8_t {
  NotTestFrame,  // too short, another EtherType, or an unknown kind
  BadCheck,      // the check does not match: the frame was corrupted
};

// The check of a test frame's bytes [0, len - 8).
std::uint64_t test_frame_check(Bytes covered);
// Parses a received frame. Corruption of the EtherType or kind byte reads as
// NotTestFrame; anything else as BadCheck.
Result<TestFrame, TestFrameError> parse_test_frame(Bytes frame);
// Writes a whole test frame into `out` (out.size() >= kTestFrameLenMin):
// header fields, `padding` cycled over the padding bytes, and the check.
void emit_test_frame(MutableBytes out, const TestFrame& frame, Bytes padding);
// Rewrites the sequence number of a test frame in place and its check.
void restamp_test_frame(MutableBytes frame, std::uint32_t seq);

// ---- ping-pong ----

struct PingConfig {
  wire::MacAddress peer = wire::MacAddress::broadcast();  // the pong host (broadcast: anyone)
  std::uint32_t count = 10;                               // pings to complete, at least 1
  std::size_t frame_len = 64;
  Duration retry_timeout = Duration::milliseconds(20);    // retransmit when no pong by then
  std::uint32_t retries_max = 8;                          // retransmissions per ping, then give up
  Duration interval = Duration::zero();                   // pause after a pong before the next ping

  // An error naming the option ("ping.count: ...").
  Result<Unit, std::string> validate() const;
};

struct PingStats {
  std::uint64_t sent = 0;           // ping frames transmitted (retransmissions included)
  std::uint64_t retransmitted = 0;  // of which retransmissions
  std::uint64_t completed = 0;      // pings answered
  std::uint64_t stale = 0;          // pongs for a ping already answered (duplicates, late copies)
  std::uint64_t corrupt = 0;        // frames failing their check
  std::uint64_t foreign = 0;        // other frames (not a pong for this host)
  std::uint64_t refused = 0;        // transmissions the port refused (full)
  Duration rtt_min = Duration::max();
  Duration rtt_max = Duration::zero();
  Duration rtt_total = Duration::zero();  // over completed pings, from the last transmission
};

class PingHost final : public Host {
 public:
  // `config` must validate (std::invalid_argument otherwise).
  PingHost(HostEnv env, PingConfig config);
  void receive(Bytes frame, Instant now) override;
  Instant poll(Instant now) override;

  // Every ping answered.
  bool done() const { return stats_.completed == config_.count; }
  // A ping stayed unanswered after retries_max retransmissions.
  bool failed() const { return failed_; }
  const PingStats& stats() const { return stats_; }

 private:
  void transmit(Instant now);

  link::Device& device_;
  PingConfig config_;
  ByteVector frame_;             // the ping being sent, restamped per sequence number
  PingStats stats_;
  bool outstanding_ = false;     // a ping awaits its pong
  bool failed_ = false;
  std::uint32_t seq_ = 0;        // sequence number of the current ping (from 1)
  std::uint32_t retries_ = 0;    // retransmissions of the current ping
  Instant last_sent_;
  Instant deadline_;             // retransmission deadline of the outstanding ping
  Instant next_ping_at_;         // when the next ping may leave
};

struct PongStats {
  std::uint64_t pings = 0;    // valid pings for this host
  std::uint64_t pongs = 0;    // pongs transmitted
  std::uint64_t corrupt = 0;  // frames failing their check
  std::uint64_t foreign = 0;  // other frames
  std::uint64_t refused = 0;  // pongs the port refused
};

// Answers every valid ping addressed to it (or broadcast) with a pong of the
// same length and sequence number.
class PongHost final : public Host {
 public:
  explicit PongHost(HostEnv env);
  void receive(Bytes frame, Instant now) override;
  Instant poll(Instant now) override;
  const PongStats& stats() const { return stats_; }

 private:
  link::Device& device_;
  ByteVector padding_;
  ByteVector reply_;
  PongStats stats_;
};

// ---- flood ----

struct FloodConfig {
  wire::MacAddress destination = wire::MacAddress::broadcast();
  std::uint64_t frames = 1000;                       // frames to send (at most 2^32 - 1)
  std::size_t frame_len = 64;
  std::uint32_t burst = 1;                           // frames per poll, at least 1
  Duration interval = Duration::microseconds(10);    // between bursts

  // An error naming the option ("flood.frames: ...").
  Result<Unit, std::string> validate() const;
};

struct FloodSenderStats {
  std::uint64_t sent = 0;     // frames the port took
  std::uint64_t refused = 0;  // transmissions refused (retried at the next burst)
};

class FloodSender final : public Host {
 public:
  // `config` must validate (std::invalid_argument otherwise).
  FloodSender(HostEnv env, FloodConfig config);
  void receive(Bytes frame, Instant now) override;
  Instant poll(Instant now) override;
  bool done() const { return stats_.sent == config_.frames; }
  const FloodSenderStats& stats() const { return stats_; }

 private:
  link::Device& device_;
  FloodConfig config_;
  ByteVector frame_;
  FloodSenderStats stats_;
  Instant next_burst_at_;
};

struct FloodSinkConfig {
  std::uint64_t frames_expected = 1000;  // sequence numbers 1..frames_expected are tracked
  bool announce = true;                  // send one hello at start so a switch learns the sink
};

struct FloodSinkStats {
  std::uint64_t received = 0;      // every frame delivered to the host
  std::uint64_t bytes = 0;         // their bytes
  std::uint64_t unique = 0;        // valid flood frames seen for the first time
  std::uint64_t duplicates = 0;    // valid flood frames seen before
  std::uint64_t out_of_order = 0;  // valid flood frames with a lower sequence number than one before
  std::uint64_t corrupt = 0;       // frames failing their check
  std::uint64_t foreign = 0;       // valid test frames that are not flood frames, or not test frames
  std::uint64_t unexpected = 0;    // flood frames numbered beyond frames_expected
};

class FloodSink final : public Host {
 public:
  FloodSink(HostEnv env, FloodSinkConfig config);
  void receive(Bytes frame, Instant now) override;
  Instant poll(Instant now) override;
  const FloodSinkStats& stats() const { return stats_; }

 private:
  link::Device& device_;
  FloodSinkConfig config_;
  ByteVector padding_;
  bool announced_ = false;
  FloodSinkStats stats_;
  std::uint32_t highest_ = 0;
  std::vector<std::uint64_t> seen_;  // bitmap over 1..frames_expected
};

// ---- the standard scenario ----
//
// Three wires in one world:
//   link "wan":     ping1 <-> pong1         ping-pong, faults `link` both ways
//   link "pipe":    flood1 -> sink1         a flood, faults `link` both ways
//   segment "lan":  ping2, pong2, flood2, sink2 on one switch, faults `lan`
//                   on every cable direction; ping-pong and a flood
// It passes when both ping-pongs complete and every sink's counts agree with
// the wire counters (frames received = copies delivered, corrupted frames =
// corrupted copies, every frame sent offered to the wire).

struct ScenarioOptions {
  std::uint64_t seed = 1;
  LinkFaults link = default_link_faults();
  LinkFaults lan = default_lan_faults();
  std::uint32_t pings = 30;
  std::uint64_t flood_frames = 2000;
  std::size_t frame_len = 64;
  Duration flood_interval = Duration::microseconds(20);
  Duration retry_timeout = Duration::milliseconds(10);
  std::uint32_t retries_max = 30;
  Duration time_max = Duration::seconds(60);  // virtual time the run may take
  std::string pcap_path;                      // empty: no capture
  std::string pcap_point = "*";
  std::string log_path;                       // empty: no log
  bool log_to_memory = false;                 // not an option: for in-process tests

  // A faulty link: every fault on, moderately.
  static LinkFaults default_link_faults();
  // A faulty segment cable.
  static LinkFaults default_lan_faults();
};

// Binds every option of the scenario to a flag (--seed, --link-loss-probability,
// ...); the defaults are those of ScenarioOptions{}, whatever `options` holds.
void bind_scenario_options(OptionTable& table, ScenarioOptions& options);

struct ScenarioResult {
  bool ok = false;
  std::string failure;   // why not ok (empty when ok)
  std::string summary;   // one line per host: what it did
  std::string counters;  // World::counters_report()
  std::string log;       // the event log, with log_to_memory
  RunResult run;
};

// Builds the world, runs it until the hosts are finished (or time_max) and
// checks the outcome. Errors in the options end up in `failure`.
ScenarioResult run_scenario(const ScenarioOptions& options);

}  // namespace tapstack::sim
