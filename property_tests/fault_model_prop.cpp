// Properties of the link fault model for random arrival sequences and random
// valid LinkFaults: without faults a link is a perfect FIFO delay line; with
// any faults, nothing arrives early or later than the configured bounds
// allow, copies are well formed, and the counters account for every frame.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <limits>
#include <vector>

#include "sim/fault_model.hpp"

namespace tapstack::sim {
namespace {

struct Arrival {
  std::int64_t gap_ns;  // since the previous frame
  std::size_t len;
};

rc::Gen<std::vector<Arrival>> arrivals(std::size_t len_max) {
  return rc::gen::container<std::vector<Arrival>>(rc::gen::construct<Arrival>(
      // Bursts (gap 0), back-to-back frames and idle gaps.
      rc::gen::oneOf(rc::gen::just<std::int64_t>(0), rc::gen::inRange<std::int64_t>(1, 2'000'000),
                     rc::gen::inRange<std::int64_t>(0, 200'000'000)),
      rc::gen::inRange<std::size_t>(0, len_max + 1)));
}

rc::Gen<double> probability() {
  return rc::gen::oneOf(rc::gen::just(0.0), rc::gen::just(1.0),
                        rc::gen::map(rc::gen::inRange(0, 1001), [](int x) { return x / 1000.0; }));
}

rc::Gen<Duration> duration_ns(std::int64_t lo, std::int64_t hi) {
  return rc::gen::map(rc::gen::inRange<std::int64_t>(lo, hi + 1), [](std::int64_t n) { return Duration::nanoseconds(n); });
}

// Any valid LinkFaults, each fault on or off, at any strength.
LinkFaults any_faults() {
  LinkFaults f;
  f.loss_probability = *probability();
  f.burst_enter_probability = *probability();
  f.burst_exit_probability = *rc::gen::map(rc::gen::inRange(1, 1001), [](int x) { return x / 1000.0; });
  f.burst_loss_probability = *probability();
  f.delay_one_way = *duration_ns(0, 10'000'000);
  f.jitter_max = *rc::gen::oneOf(rc::gen::just(Duration::zero()), duration_ns(0, 5'000'000));
  f.reorder_probability = *probability();
  f.reorder_delay = *duration_ns(1, 10'000'000);
  f.duplicate_probability = *probability();
  f.corrupt_probability = *probability();
  f.corrupt_bits_max = *rc::gen::inRange<std::uint32_t>(1, Delivery::kMaxFlips + 1);
  f.mtu = *rc::gen::inRange<std::size_t>(LinkFaults::kMtuMin, 9001);
  f.rate_bits_per_second =
      *rc::gen::oneOf(rc::gen::just<std::uint64_t>(0), rc::gen::inRange<std::uint64_t>(1'000, 10'000'000'000));
  f.queue_bytes_max = f.mtu + 14 + *rc::gen::inRange<std::size_t>(0, 200'000);
  const auto windows = *rc::gen::container<std::vector<std::pair<std::int64_t, std::int64_t>>>(
      rc::gen::pair(rc::gen::inRange<std::int64_t>(0, 500'000'000), rc::gen::inRange<std::int64_t>(0, 50'000'000)));
  for (const auto& [start, length] : windows) {
    f.partitions.push_back({Instant::from_ns(start), Instant::from_ns(start + length)});
  }
  if (*rc::gen::arbitrary<bool>()) {
    f.partition_interval_mean = *duration_ns(1'000, 100'000'000);
    f.partition_duration_mean = *duration_ns(1'000, 20'000'000);
  }
  return f;
}

RC_GTEST_PROP(FaultModelProp, NoFaultsIsAFifoDelayLine, ()) {
  LinkFaults f;
  f.delay_one_way = *duration_ns(0, 1'000'000'000);
  const auto frames = *arrivals(f.mtu + 14);
  const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  RC_ASSERT(f.validate().ok());
  FaultModel model(f, seed);
  Instant now = Instant::from_ns(*rc::gen::inRange<std::int64_t>(-1'000'000'000, 1'000'000'000));
  Instant previous = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
  for (const Arrival& a : frames) {
    now += Duration::nanoseconds(a.gap_ns);
    const Verdict v = model.offer(now, a.len);
    RC_ASSERT(v.dropped == DropReason::None);
    RC_ASSERT(v.count == 1);
    const Delivery& d = v.deliveries[0];
    RC_ASSERT(d.at == now + f.delay_one_way);
    RC_ASSERT(d.at >= previous);
    RC_ASSERT(d.flips == 0);
    RC_ASSERT(!d.duplicate);
    RC_ASSERT(!d.reordered);
    previous = d.at;
  }
  FaultCounters expected;
  expected.offered = frames.size();
  expected.delivered = frames.size();
  RC_ASSERT(model.counters() == expected);
}

RC_GTEST_PROP(FaultModelProp, AnyFaultsKeepTheBoundsAndTheBooks, ()) {
  const LinkFaults f = any_faults();
  RC_ASSERT(f.validate().ok());
  const auto frames = *arrivals(f.mtu + 14 + 100);  // some too big
  const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  FaultModel model(f, seed);
  FaultModel twin(f, seed);

  // The longest a frame can wait in the rate limiter: a full queue's worth.
  const Duration queue_wait_max =
      f.rate_bits_per_second == 0
          ? Duration::zero()
          : Duration::nanoseconds(static_cast<std::int64_t>(
                (f.queue_bytes_max * 8'000'000'000ULL + f.rate_bits_per_second - 1) / f.rate_bits_per_second));
  const Duration latency_max = queue_wait_max + f.delay_one_way + f.jitter_max + f.reorder_delay;

  std::array<std::uint64_t, 6> drops{};
  std::uint64_t copies = 0;
  Instant now = Instant::epoch();
  Instant previous_in_order = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
  for (const Arrival& a : frames) {
    now += Duration::nanoseconds(a.gap_ns);
    const Verdict v = model.offer(now, a.len);
    RC_ASSERT(twin.offer(now, a.len) == v);  // deterministic
    ++drops[static_cast<std::size_t>(v.dropped)];
    copies += v.count;

    if (a.len > f.mtu + 14) {
      RC_ASSERT(v.dropped == DropReason::TooBig || v.dropped == DropReason::Partitioned);
    } else {
      RC_ASSERT(v.dropped != DropReason::TooBig);
    }
    if (v.dropped != DropReason::None) {
      RC_ASSERT(v.count == 0);
      continue;
    }
    RC_ASSERT(v.count == 1 || v.count == 2);
    for (std::uint8_t c = 0; c < v.count; ++c) {
      const Delivery& d = v.deliveries[c];
      RC_ASSERT(d.duplicate == (c == 1));
      RC_ASSERT(d.at >= now + f.delay_one_way);
      RC_ASSERT(d.at <= now + latency_max);
      if (d.reordered) {
        RC_ASSERT(d.at - f.reorder_delay >= now + f.delay_one_way);
      } else {
        RC_ASSERT(d.at >= previous_in_order);
        previous_in_order = d.at;
      }
      RC_ASSERT(d.flips <= f.corrupt_bits_max);
      RC_ASSERT(d.flips <= a.len * 8);
      for (std::uint8_t b = 0; b < d.flips; ++b) {
        RC_ASSERT(d.flipped_bits[b] < a.len * 8);
        if (b > 0) {
          RC_ASSERT(d.flipped_bits[b - 1] < d.flipped_bits[b]);
        }
      }
    }
  }

  const FaultCounters& c = model.counters();
  RC_ASSERT(c.offered == frames.size());
  RC_ASSERT(c.delivered == copies);
  RC_ASSERT(c.lost == drops[static_cast<std::size_t>(DropReason::Loss)]);
  RC_ASSERT(c.burst_lost == drops[static_cast<std::size_t>(DropReason::BurstLoss)]);
  RC_ASSERT(c.queue_full == drops[static_cast<std::size_t>(DropReason::QueueFull)]);
  RC_ASSERT(c.too_big == drops[static_cast<std::size_t>(DropReason::TooBig)]);
  RC_ASSERT(c.partitioned == drops[static_cast<std::size_t>(DropReason::Partitioned)]);
  RC_ASSERT(c.offered == c.delivered - c.duplicated + c.lost + c.burst_lost + c.queue_full + c.too_big + c.partitioned);
  RC_ASSERT(c.duplicated <= c.delivered);
  RC_ASSERT(c.reordered <= c.delivered);
  RC_ASSERT(c.corrupted <= c.delivered);
  if (f.rate_bits_per_second == 0) {
    RC_ASSERT(c.queue_bytes_peak == 0u);
  } else {
    RC_ASSERT(c.queue_bytes_peak <= f.queue_bytes_max);
  }
}

// Scheduled partitions drop exactly the frames whose arrival lies in a window,
// whatever the windows' order and overlaps.
RC_GTEST_PROP(FaultModelProp, ScheduledPartitionsDropExactlyInsideTheirWindows, ()) {
  LinkFaults f;
  const auto windows = *rc::gen::container<std::vector<std::pair<std::int64_t, std::int64_t>>>(
      rc::gen::pair(rc::gen::inRange<std::int64_t>(0, 1'000'000), rc::gen::inRange<std::int64_t>(0, 200'000)));
  for (const auto& [start, length] : windows) {
    f.partitions.push_back({Instant::from_ns(start), Instant::from_ns(start + length)});
  }
  FaultModel model(f, *rc::gen::arbitrary<std::uint64_t>());
  auto times = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 1'300'000));
  std::sort(times.begin(), times.end());
  for (std::int64_t t : times) {
    const Instant now = Instant::from_ns(t);
    const bool inside = std::any_of(f.partitions.begin(), f.partitions.end(),
                                    [now](const Partition& p) { return p.start <= now && now < p.end; });
    RC_ASSERT((model.offer(now, 64).dropped == DropReason::Partitioned) == inside);
  }
}

}  // namespace
}  // namespace tapstack::sim
