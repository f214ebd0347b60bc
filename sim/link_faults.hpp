#pragma once
// LinkFaults: every knob of one direction of a simulated link, in one options
// struct with qualifiers last (TigerBeetle's packet simulator style), and
// validate(), which rejects any option out of range with a message naming it.
// What each knob does, and in which order the faults are decided, is told in
// sim/fault_model.hpp.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

// A scheduled partition: the link direction is down in [start, end). Windows
// may overlap and come in any order; start == end is an empty window.
struct Partition {
  Instant start;
  Instant end;

  bool operator==(const Partition&) const = default;
};

struct LinkFaults {
  // Bounds validate() enforces beyond the obvious ones.
  // RFC 791 p. 25: "Every internet module must be able to forward a datagram
  // of 68 octets without further fragmentation."
  static constexpr std::size_t kMtuMin = 68;
  // The IPv4 Total Length field is 16 bits (RFC 791 section 3.1).
  static constexpr std::size_t kMtuMax = 65535;
  // The Ethernet header (without FCS) that frame_len counts beyond the MTU.
  static constexpr std::size_t kEthernetHeaderLen = 14;
  // Keeps the rate limiter's backlog, kept in bit-nanoseconds, within 64 bits.
  static constexpr std::size_t kQueueBytesMax = std::size_t{1} << 30;
  // Every duration knob is at most this (about 11.6 days), so that instant
  // arithmetic (now + delay + jitter + reorder + queueing) cannot overflow.
  static constexpr Duration kDurationMax = Duration::seconds(1'000'000);

  double loss_probability = 0.0;              // independent (Bernoulli) loss per frame
  double burst_enter_probability = 0.0;       // Gilbert-Elliott: P(good -> bad) per frame
  double burst_exit_probability = 1.0;        // Gilbert-Elliott: P(bad -> good) per frame
  double burst_loss_probability = 1.0;        // loss probability while in the bad state
  Duration delay_one_way = Duration::milliseconds(1);
  Duration jitter_max = Duration::zero();     // uniform extra delay in [0, jitter_max]; keeps FIFO order
  double reorder_probability = 0.0;           // per copy: held back by reorder_delay, so later frames overtake it
  Duration reorder_delay = Duration::milliseconds(5);
  double duplicate_probability = 0.0;         // per frame: a second copy is delivered
  double corrupt_probability = 0.0;           // per delivered copy
  std::uint32_t corrupt_bits_max = 1;         // flip 1..corrupt_bits_max random bits anywhere in the frame
  std::uint64_t rate_bits_per_second = 0;     // 0: no rate limit (no serialisation delay, no queue)
  std::size_t queue_bytes_max = 64 * 1024;    // tail-drop bound of the rate limiter's queue
  std::size_t mtu = 1500;                     // IP MTU; frames longer than mtu + 14 are dropped
  std::vector<Partition> partitions;          // scheduled outages
  Duration partition_interval_mean = Duration::zero();  // random outages: mean up time; 0 = none
  Duration partition_duration_mean = Duration::zero();  // random outages: mean down time

  // An error naming the option for anything out of range: a probability
  // outside [0, 1] or NaN, a negative (or absurdly long) duration,
  // corrupt_bits_max 0 or above Delivery::kMaxFlips, an MTU outside
  // [68, 65535], a rate-limited queue that cannot hold one maximum-size frame,
  // a partition ending before it starts, a knob that can never take effect
  // (reorder with no reorder_delay, random outages with only one of their two
  // means) or a Gilbert-Elliott bad state that can never be left.
  // rate_bits_per_second 0 is valid: it means "no rate limit".
  Result<Unit, std::string> validate() const;

  bool operator==(const LinkFaults&) const = default;
};

}  // namespace tapstack::sim
