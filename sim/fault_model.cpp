#include "sim/fault_model.hpp"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <utility>

#include "sim/distributions.hpp"

namespace tapstack::sim {
namespace {

// The rate limiter counts in bit-nanoseconds: one byte is 8 * 1e9 units, and
// `d` nanoseconds at `r` bit/s drain exactly d * r units.
constexpr std::uint64_t kUnitsPerByte = 8'000'000'000ULL;

constexpr std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

// Scheduled windows sorted by start, with empty ones removed and overlapping
// or touching ones merged, so that one forward cursor answers "is now inside
// a window" for non-decreasing `now`.
std::vector<Partition> merge_windows(const std::vector<Partition>& partitions) {
  std::vector<Partition> sorted;
  for (const Partition& p : partitions) {
    if (p.start < p.end) {
      sorted.push_back(p);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const Partition& a, const Partition& b) { return a.start < b.start; });
  std::vector<Partition> merged;
  for (const Partition& p : sorted) {
    if (!merged.empty() && p.start <= merged.back().end) {
      merged.back().end = std::max(merged.back().end, p.end);
    } else {
      merged.push_back(p);
    }
  }
  return merged;
}

LinkFaults validated(LinkFaults faults) {
  if (auto ok = faults.validate(); !ok.ok()) {
    throw std::invalid_argument("invalid LinkFaults: " + ok.error());
  }
  return faults;
}

}  // namespace

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::None:
      return "none";
    case DropReason::Loss:
      return "loss";
    case DropReason::BurstLoss:
      return "burst_loss";
    case DropReason::QueueFull:
      return "queue_full";
    case DropReason::TooBig:
      return "too_big";
    case DropReason::Partitioned:
      return "partitioned";
  }
  return "unknown";
}

FaultModel::FaultModel(LinkFaults faults, std::uint64_t seed)
    : faults_(validated(std::move(faults))),
      windows_(merge_windows(faults_.partitions)),
      partition_rng_(derive_seed(seed, kPartition)),
      loss_rng_(derive_seed(seed, kLoss)),
      burst_rng_(derive_seed(seed, kBurst)),
      jitter_rng_(derive_seed(seed, kJitter)),
      duplicate_rng_(derive_seed(seed, kDuplicate)),
      reorder_rng_(derive_seed(seed, kReorder)),
      corrupt_rng_(derive_seed(seed, kCorrupt)) {
  if (faults_.partition_interval_mean > Duration::zero()) {
    const auto up = static_cast<double>(faults_.partition_interval_mean.ns());
    const auto down = static_cast<double>(faults_.partition_duration_mean.ns());
    outage_change_rate_ = 1.0 / up + 1.0 / down;
    outage_down_fraction_ = down / (up + down);
  }
  if (faults_.rate_bits_per_second > 0) {
    backlog_max_ = static_cast<std::uint64_t>(faults_.queue_bytes_max) * kUnitsPerByte;
  }
}

Verdict FaultModel::offer(Instant now, std::size_t frame_len) {
  // Time running backwards is a bug in the caller, and would silently
  // corrupt the queue and partition state: stop loudly.
  if (now < last_now_) {
    std::abort();
  }
  last_now_ = now;
  Verdict verdict;
  ++counters_.offered;

  // 1. Partition.
  if (partitioned(now)) {
    ++counters_.partitioned;
    verdict.dropped = DropReason::Partitioned;
    return verdict;
  }

  // 2. MTU.
  if (frame_len > faults_.mtu + LinkFaults::kEthernetHeaderLen) {
    ++counters_.too_big;
    verdict.dropped = DropReason::TooBig;
    return verdict;
  }

  // 3. Rate limit: when the frame's last bit leaves the sender.
  Instant departure = now;
  if (faults_.rate_bits_per_second > 0 && !enqueue(now, frame_len, departure)) {
    ++counters_.queue_full;
    verdict.dropped = DropReason::QueueFull;
    return verdict;
  }

  // 4 and 5. Independent loss, then Gilbert-Elliott, whose chain steps for
  // every frame on the wire whether or not step 4 lost it.
  const bool lost = faults_.loss_probability > 0.0 && loss_rng_.chance(faults_.loss_probability);
  const bool bad = step_burst_chain();
  if (lost) {
    ++counters_.lost;
    verdict.dropped = DropReason::Loss;
    return verdict;
  }
  if (bad && (faults_.burst_loss_probability >= 1.0 || burst_rng_.chance(faults_.burst_loss_probability))) {
    ++counters_.burst_lost;
    verdict.dropped = DropReason::BurstLoss;
    return verdict;
  }

  // 6. Delay and jitter; jitter never lets a frame pass the one before.
  Instant base = departure + faults_.delay_one_way + uniform_duration(jitter_rng_, faults_.jitter_max);
  base = std::max(base, last_base_arrival_);
  last_base_arrival_ = base;

  // 7. Duplicate.
  const bool duplicated =
      faults_.duplicate_probability > 0.0 && duplicate_rng_.chance(faults_.duplicate_probability);
  verdict.count = duplicated ? 2 : 1;

  // 8 and 9. Reorder and corrupt each copy independently.
  for (std::uint8_t i = 0; i < verdict.count; ++i) {
    Delivery& copy = verdict.deliveries[i];
    copy.at = base;
    copy.duplicate = i == 1;
    if (faults_.reorder_probability > 0.0 && reorder_rng_.chance(faults_.reorder_probability)) {
      copy.at += faults_.reorder_delay;
      copy.reordered = true;
      ++counters_.reordered;
    }
    corrupt(copy, frame_len);
  }
  counters_.delivered += verdict.count;
  counters_.duplicated += duplicated ? 1 : 0;
  return verdict;
}

bool FaultModel::partitioned(Instant now) { return in_scheduled_partition(now) || in_random_outage(now); }

bool FaultModel::in_scheduled_partition(Instant now) {
  // Bounded by the number of windows over the model's whole life.
  while (next_window_ < windows_.size() && windows_[next_window_].end <= now) {
    ++next_window_;
  }
  return next_window_ < windows_.size() && windows_[next_window_].start <= now;
}

// The outage process is a two-state continuous-time Markov chain: up for an
// Exp(interval) time, down for an Exp(duration) time. It is only looked at
// when a frame arrives, and advanced in O(1) however long the gap since the
// last look: when the current period ends before `now`, the state flips at
// its end; the chain from there to `now` is sampled exactly through the
// equivalent description "at rate c = 1/interval + 1/duration the state is
// redrawn from the stationary distribution (down with duration/(interval +
// duration))" (the rates out of up and down are then c * P(down) =
// 1/interval and c * P(up) = 1/duration, as they must be). So the state at
// `now` is unchanged if no redraw came in the gap (probability exp(-c gap):
// an Exp(1) draw exceeds c gap) and stationary otherwise; by memorylessness
// the rest of the period at `now` is again exponential with its state's mean.
bool FaultModel::in_random_outage(Instant now) {
  if (outage_change_rate_ == 0.0) {
    return false;
  }
  if (!outage_started_) {
    outage_started_ = true;
    outage_down_ = false;
    outage_until_ = now + exponential_duration(partition_rng_, faults_.partition_interval_mean);
    return false;
  }
  if (now < outage_until_) {
    return outage_down_;
  }
  bool down = !outage_down_;
  const Duration gap = now - outage_until_;
  if (gap > Duration::zero() &&
      exponential_unit(partition_rng_) <= outage_change_rate_ * static_cast<double>(gap.ns())) {
    down = partition_rng_.chance(outage_down_fraction_);
  }
  outage_down_ = down;
  outage_until_ = now + exponential_duration(partition_rng_, down ? faults_.partition_duration_mean
                                                                  : faults_.partition_interval_mean);
  return outage_down_;
}

bool FaultModel::enqueue(Instant now, std::size_t frame_len, Instant& departure) {
  const std::uint64_t rate = faults_.rate_bits_per_second;
  // Drain what the serialiser sent since the last frame. elapsed <= backlog /
  // rate keeps elapsed * rate <= backlog: no overflow.
  if (backlog_ > 0) {
    const auto elapsed = static_cast<std::uint64_t>((now - backlog_at_).ns());
    if (elapsed > backlog_ / rate) {
      backlog_ = 0;
    } else {
      backlog_ -= elapsed * rate;
    }
  }
  backlog_at_ = now;
  // Both terms are below 2^30 * 8e9 + 65549 * 8e9 < 2^64 (validate() bounds
  // queue_bytes_max and the MTU).
  const std::uint64_t frame = static_cast<std::uint64_t>(frame_len) * kUnitsPerByte;
  if (backlog_ + frame > backlog_max_) {
    return false;
  }
  backlog_ += frame;
  if (backlog_ > backlog_peak_) {
    backlog_peak_ = backlog_;
    counters_.queue_bytes_peak = ceil_div(backlog_peak_, kUnitsPerByte);
  }
  departure = now + Duration::nanoseconds(static_cast<std::int64_t>(ceil_div(backlog_, rate)));
  return true;
}

bool FaultModel::step_burst_chain() {
  if (burst_bad_) {
    if (burst_rng_.chance(faults_.burst_exit_probability)) {
      burst_bad_ = false;
    }
  } else if (faults_.burst_enter_probability > 0.0 && burst_rng_.chance(faults_.burst_enter_probability)) {
    burst_bad_ = true;
  }
  return burst_bad_;
}

// Floyd's algorithm picks `flips` distinct bit positions out of `bits`
// uniformly, in exactly `flips` draws (no rejection loop).
void FaultModel::corrupt(Delivery& copy, std::size_t frame_len) {
  if (faults_.corrupt_probability == 0.0 || frame_len == 0 || !corrupt_rng_.chance(faults_.corrupt_probability)) {
    return;
  }
  const std::uint64_t bits = static_cast<std::uint64_t>(frame_len) * 8;
  std::uint64_t flips = faults_.corrupt_bits_max == 1 ? 1 : 1 + corrupt_rng_.below(faults_.corrupt_bits_max);
  flips = std::min(flips, bits);
  std::size_t chosen = 0;
  for (std::uint64_t j = bits - flips; j < bits; ++j) {
    const auto candidate = static_cast<std::uint32_t>(corrupt_rng_.below(j + 1));
    const auto end = copy.flipped_bits.begin() + static_cast<std::ptrdiff_t>(chosen);
    const bool taken = std::find(copy.flipped_bits.begin(), end, candidate) != end;
    copy.flipped_bits[chosen++] = taken ? static_cast<std::uint32_t>(j) : candidate;
  }
  std::sort(copy.flipped_bits.begin(), copy.flipped_bits.begin() + static_cast<std::ptrdiff_t>(chosen));
  copy.flips = static_cast<std::uint8_t>(chosen);
  ++counters_.corrupted;
}

}  // namespace tapstack::sim
