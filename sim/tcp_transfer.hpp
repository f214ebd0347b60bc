#pragma once
// The TCP transfer scenario (`tapstack sim`, ci/sweep, the transfer tests):
// two whole stacks on one simulated Ethernet segment move seeded random bytes
// over K TCP connections, in virtual time, and every byte is checked.
//
//   client 10.0.0.1 (port "client") --- switch "lan" --- server 10.0.0.2 (port "server")
//
// Direction: echo. The server listens on port 7 and echoes (RFC 862) every
// byte it receives on every accepted connection. The client opens K
// connections at once (tcp_connect); on each it sends N bytes drawn from a
// stream seeded with derive_seed(seed, stream_id("transfer/<i>")), half-closes
// (tcp_shutdown) once tcp_send has taken the last byte, and reads the echo
// back, comparing every byte in order with the same stream. So N bytes flow
// each way on each connection. The server shuts its side (tcp_close, which
// still delivers what is queued and then the FIN) once it has read the
// client's FIN and queued every byte it received. A connection is complete
// when the client has verified all N echo bytes and then read end of stream;
// the client then closes its handle. Both sides use only the socket API:
// tcp_send's partial acceptance and WouldBlock drive the pacing; the server
// holds at most kEchoBufferBytes unsent, and stops reading beyond that, so a
// slow return path pushes back through the receive window.
//
// Faults. Each direction has its own LinkFaults, applied on the sender's
// cable towards the switch; the switch's cables out carry no faults and no
// delay, so a probability is per frame end to end, and `delay_one_way` is the
// whole one-way delay. `mtu` applies to both stacks, both ports and all four
// cables (the faults' own mtu fields are overwritten).
//
// The run ends when every connection is complete or failed and no TCB on
// either stack is in a state other than LISTEN, TIME-WAIT or CLOSED, or at the
// time limit. It succeeds (ok) when every connection is complete, byte-exact,
// and every connection reached CLOSED or TIME-WAIT on both sides.
//
// Deterministic: no wall clock and no unseeded randomness; the same config
// gives the same TransferResult and a byte-identical pcap (recorded at the
// client's port: every frame it sent and received, virtual timestamps).
//
// TransferKnobs are the command line's simple knobs (../shared/CLI.md `tapstack
// sim`, plus a few extra flags) mapped onto a TransferConfig, bound to flags in
// an OptionTable so that a failing run prints the exact line that replays it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sim/link_faults.hpp"
#include "sim/replay.hpp"
#include "sim/world.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"

namespace tapstack::sim {

struct TransferConfig {
  std::uint64_t seed = 1;                       // the world's master seed
  LinkFaults client_to_server;                  // faults of frames the client sends
  LinkFaults server_to_client;                  // faults of frames the server sends
  std::size_t mtu = 1500;                       // IP MTU of stacks, ports and cables
  std::uint64_t bytes = std::uint64_t{1} << 20;  // per connection, each way
  std::size_t connections = 1;                  // K, at most kConnectionsMax
  std::string pcap_path;                        // empty: no capture
  Duration time_limit = Duration::zero();       // virtual; zero: default_time_limit(*this)
  std::uint16_t server_port = 7;
  TcpLimits tcp;                                // both stacks' TCP configuration

  static constexpr std::size_t kConnectionsMax = 1000;  // below tcp.connections_max (TIME-WAITs stay)
  static constexpr std::uint64_t kBytesMax = std::uint64_t{1} << 40;
  static constexpr std::size_t kEchoBufferBytes = 64 * 1024;  // the server's unsent echo bytes, per connection
};

// The virtual time a run may take when TransferConfig::time_limit is zero:
// 10 minutes, plus four times what the bytes take one way at the rate limit
// (or at 1 Mbit/s, if that is lower or there is none), at most 10^8 s.
Duration default_time_limit(const TransferConfig& config);

struct ConnectionResult {
  std::uint64_t sent = 0;                       // bytes tcp_send took
  std::uint64_t verified = 0;                   // echo bytes received equal to those sent, in order
  std::optional<std::uint64_t> mismatch_offset;  // the first echo byte that differed (or was extra)
  bool complete = false;                        // all N verified, then end of stream
  std::string error;                            // why not complete (empty when complete)
  std::optional<Duration> finished;             // since the start, when complete or failed
  std::uint64_t retransmissions = 0;            // the client socket's own (TcpSocketInfo), last seen

  bool operator==(const ConnectionResult&) const = default;
};

struct TransferResult {
  bool ok = false;
  std::string failure;                          // the first reason it is not ok (empty when ok)
  std::vector<ConnectionResult> connections;    // the client's K connections, in connect order
  Duration duration;                            // start until the last connection finished (or the run stopped)
  std::uint64_t bytes_verified = 0;             // sum over connections
  double goodput_bits_per_second = 0.0;         // bytes_verified * 8 / duration
  std::optional<std::uint64_t> retransmissions;  // both stacks' TCP retransmission counters; nullopt: none exist
  std::uint64_t frames_sent = 0;                // frames the two hosts put on their cables
  std::uint64_t frames_dropped = 0;             // lost, burst-lost, queue-full, too big or partitioned
  std::uint64_t frames_reordered = 0;
  std::uint64_t frames_duplicated = 0;
  std::uint64_t frames_corrupted = 0;
  bool all_closed = false;                      // no TCB outside LISTEN / TIME-WAIT at the end
  std::size_t client_time_wait = 0;             // TCBs in TIME-WAIT at the end
  std::size_t server_time_wait = 0;
  std::uint64_t server_accepted = 0;            // connections the server accepted
  std::uint64_t server_errors = 0;              // errors the server's sockets reported
  RunStop stop = RunStop::Deadline;
  std::uint64_t events = 0;
  Duration time_limit;                          // the limit that applied
  std::string replay;                           // the replaying command line (run_transfer(knobs) only)

  bool operator==(const TransferResult&) const = default;
};

// Runs the scenario. A configuration that cannot be built (bad faults, an
// unwritable pcap) gives ok = false with the reason in `failure` and no connections.
TransferResult run_transfer(const TransferConfig& config);

// ---- the command line's knobs ----

// Every knob of `tapstack sim` that shapes a run (not --pcap or --json).
// Both directions get the same faults. Durations are in (fractional) milliseconds
// and the rate in Mbit/s, as the flags take them.
struct TransferKnobs {
  std::uint64_t seed = 1;
  double loss = 0.0;                 // --loss P
  double reorder = 0.0;              // --reorder P (held back by 5 ms)
  double duplicate = 0.0;            // --duplicate P
  double corrupt = 0.0;              // --corrupt P (one bit flipped: every checksum catches it)
  double delay_ms = 1.0;             // --delay MS, one way
  double jitter_ms = 0.0;            // --jitter MS, uniform extra delay, keeps order
  double rate_mbit = 0.0;            // --rate MBIT per direction; 0: unlimited
  std::uint64_t mtu = 1500;          // --mtu BYTES
  std::uint64_t bytes = std::uint64_t{1} << 20;  // --bytes N per connection, each way
  std::uint64_t connections = 1;     // --connections K
  double partition_interval_ms = 0;  // --partition-interval MS: mean up time between random outages; 0: none
  double partition_duration_ms = 0;  // --partition-duration MS: mean outage length
  double time_limit_s = 0;           // --time-limit S virtual seconds; 0: default_time_limit

  bool operator==(const TransferKnobs&) const = default;
};

// Binds the knobs to their flags (--seed, --loss, ..., --time-limit); the
// current values are the defaults that changed() leaves out.
void bind_transfer_options(OptionTable& table, TransferKnobs& knobs);
// Range checks; the error names the flag ("--loss: must be in 0..1, got 2").
Result<Unit, std::string> validate(const TransferKnobs& knobs);
// The TransferConfig the knobs describe (knobs must validate).
TransferConfig to_transfer_config(const TransferKnobs& knobs, std::string pcap_path = {});
// "tapstack sim --seed=N" and every knob that differs from its default, each
// parsing back to exactly the same value.
std::string replay_command(const TransferKnobs& knobs);
// Validates, runs, and fills TransferResult::replay.
TransferResult run_transfer(const TransferKnobs& knobs, std::string pcap_path = {});

}  // namespace tapstack::sim
