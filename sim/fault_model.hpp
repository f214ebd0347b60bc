#pragma once
// FaultModel: what one direction of a simulated link does to each frame that
// enters it. The link (sim/link.hpp, the segment) asks offer(now, frame_len)
// once per frame, with non-decreasing `now`, and gets back a Verdict: dropped
// and why, or one or two copies to deliver, each with its arrival instant and
// the bits to flip. The model never sees frame bytes, never allocates in
// offer(), and draws only from its own seeded streams: the same LinkFaults and
// seed give the same verdicts for the same (now, frame_len) sequence.
//
// Decisions per frame, in this order (a dropped frame stops at its step):
//  1. Partition: the direction is down if `now` lies in a scheduled window
//     [start, end) or in a random outage. Random outages alternate with up
//     periods; up and down times are exponential with means
//     partition_interval_mean and partition_duration_mean (a two-state Markov
//     process; down fraction duration/(interval + duration)). The process
//     starts, up, at the first offered frame. Only frames *entering* while
//     down are dropped: frames already in flight still arrive.
//        -> DropReason::Partitioned
//  2. MTU: frame_len > mtu + 14 (Ethernet header, no FCS).  -> TooBig
//  3. Rate limit (rate_bits_per_second > 0): a FIFO serialiser. The queue
//     holds the bytes not yet put on the wire (a fluid backlog that drains at
//     the rate, so the unsent part of the frame being serialised counts). If
//     backlog + frame_len > queue_bytes_max the frame is tail-dropped
//     (-> QueueFull); otherwise it joins the backlog and leaves the sender
//     when its last bit is serialised: now + backlog*8/rate (exact integer
//     arithmetic, rounded up to the next nanosecond only at the end, so the
//     throughput is the configured rate with no drift). Without a rate limit
//     the frame leaves at `now`. The backlog's maximum is queue_bytes_peak.
//  4. Independent loss with loss_probability.  -> Loss
//  5. Gilbert-Elliott burst loss: a good/bad Markov chain, starting good,
//     stepped once for every frame reaching step 4 (lost there or not); the
//     step happens first, then, in the bad state, the frame is lost with
//     burst_loss_probability. Bad runs last 1/burst_exit_probability frames on
//     average; the stationary bad fraction is enter/(enter + exit).
//        -> BurstLoss
//  6. Delay: base arrival = departure + delay_one_way + uniform [0,
//     jitter_max], then raised to the previous frame's base arrival if below
//     it: jitter never reorders.
//  7. Duplicate with duplicate_probability: a second copy with the same base
//     arrival; the simulator schedules it after the first (deliveries[1]), so
//     it arrives right after the original.
//  8. Reorder, per copy, independently: with reorder_probability the copy
//     arrives reorder_delay after its base arrival, so later frames overtake
//     it. A duplicate can thus be held back while its original is not (an old
//     duplicate arriving late, as after a spurious retransmission), or the
//     reverse: deliveries[] are not sorted by `at`.
//  9. Corruption, per copy, independently: with corrupt_probability, flip a
//     number of distinct bits drawn uniformly from 1..corrupt_bits_max (at
//     most the frame's bit count; a 0-byte frame is never corrupted), at
//     uniform positions anywhere in the frame. Listed ascending in
//     flipped_bits[0, flips).
//
// Every copy arrives at or after now + delay_one_way. Each fault kind draws
// from its own random stream (derive_seed(seed, kind)), so switching one
// fault on changes no other fault's decisions for frames reaching it. A
// probability of 0 draws nothing. With default LinkFaults every frame is
// delivered exactly once at now + delay_one_way.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "sim/link_faults.hpp"
#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

enum class DropReason : std::uint8_t { None, Loss, BurstLoss, QueueFull, TooBig, Partitioned };

// "none", "loss", "burst_loss", "queue_full", "too_big", "partitioned": the
// counter names, for event logs.
const char* to_string(DropReason reason);

struct Delivery {
  static constexpr std::size_t kMaxFlips = 16;
  Instant at;                                           // when the copy arrives at the far end
  std::array<std::uint32_t, kMaxFlips> flipped_bits{};  // bit indices (0 = MSB of byte 0) to flip in this copy
  std::uint8_t flips = 0;                               // 0 = not corrupted
  bool duplicate = false;                               // the second copy of a duplicated frame
  bool reordered = false;                               // held back by reorder_delay

  bool operator==(const Delivery&) const = default;
};

struct Verdict {
  DropReason dropped = DropReason::None;  // None: deliveries[0..count) happen
  std::array<Delivery, 2> deliveries{};
  std::uint8_t count = 0;

  bool operator==(const Verdict&) const = default;
};

// Per direction. offered == (delivered - duplicated) + lost + burst_lost +
// queue_full + too_big + partitioned, always.
struct FaultCounters {
  std::uint64_t offered = 0, delivered = 0;  // delivered counts copies (duplicates included)
  std::uint64_t lost = 0, burst_lost = 0, queue_full = 0, too_big = 0, partitioned = 0;
  std::uint64_t duplicated = 0;              // frames delivered twice (= extra copies)
  std::uint64_t reordered = 0, corrupted = 0;  // copies
  std::uint64_t queue_bytes_peak = 0;        // largest rate-limiter backlog, frame included, in bytes

  bool operator==(const FaultCounters&) const = default;
};

class FaultModel {
 public:
  // faults must validate(); otherwise this throws std::invalid_argument with
  // validate()'s message (a start-up configuration error, not a packet-path
  // one).
  FaultModel(LinkFaults faults, std::uint64_t seed);

  // One frame of frame_len bytes (Ethernet header included, no FCS) enters
  // the link at `now`, which must not be earlier than the previous call's
  // (an earlier `now` is a caller bug and aborts).
  Verdict offer(Instant now, std::size_t frame_len);

  const FaultCounters& counters() const { return counters_; }
  const LinkFaults& faults() const { return faults_; }

 private:
  // The random streams, one per fault kind (sub-seeds of the model's seed).
  enum Stream : std::uint64_t { kPartition = 1, kLoss, kBurst, kJitter, kDuplicate, kReorder, kCorrupt };

  bool partitioned(Instant now);
  bool in_scheduled_partition(Instant now);
  bool in_random_outage(Instant now);
  // Step 3: false if tail-dropped; otherwise sets `departure`.
  bool enqueue(Instant now, std::size_t frame_len, Instant& departure);
  // Step 5: steps the Gilbert-Elliott chain once; true in the bad state.
  bool step_burst_chain();
  void corrupt(Delivery& copy, std::size_t frame_len);

  LinkFaults faults_;
  Instant last_now_ = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
  FaultCounters counters_;

  // Scheduled partitions sorted by start, overlapping ones merged, empty ones
  // removed; windows before next_window_ have ended.
  std::vector<Partition> windows_;
  std::size_t next_window_ = 0;

  // Random outages.
  Rng partition_rng_;
  bool outage_started_ = false;
  bool outage_down_ = false;
  Instant outage_until_;               // when the current up or down period ends
  double outage_change_rate_ = 0.0;    // 1/interval + 1/duration, per nanosecond
  double outage_down_fraction_ = 0.0;  // duration / (interval + duration)

  // Rate limiter: the backlog in bit-nanoseconds (bits * 1e9), so that
  // draining `d` ns at `r` bit/s removes exactly d * r units.
  std::uint64_t backlog_ = 0;
  std::uint64_t backlog_peak_ = 0;
  std::uint64_t backlog_max_ = 0;      // queue_bytes_max in the same units
  Instant backlog_at_;                 // when backlog_ was last brought up to date

  Rng loss_rng_;
  Rng burst_rng_;
  bool burst_bad_ = false;

  Rng jitter_rng_;
  // Raised by every delivered frame (FIFO).
  Instant last_base_arrival_ = Instant::from_ns(std::numeric_limits<std::int64_t>::min());

  Rng duplicate_rng_;
  Rng reorder_rng_;
  Rng corrupt_rng_;
};

}  // namespace tapstack::sim
