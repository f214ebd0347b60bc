// FaultModel: each fault does what LinkFaults says, at the configured rate.
//
// Rates are measured over many frames with fixed seeds and compared with
// bounds of about 5 standard deviations of the estimator (each bound's
// derivation is beside it): a correct model stays inside with probability
// ~1 - 6e-7 per check (and, the seeds being fixed, either always passes or
// always fails), while a rate off by a meaningful amount lands outside.
#include "sim/fault_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "sim/distributions.hpp"
#include "tests/support/allocation_counter.hpp"


namespace tapstack::sim {
namespace {

constexpr Instant at_us(std::int64_t us) { return Instant::epoch() + Duration::microseconds(us); }
constexpr Instant at_ms(std::int64_t ms) { return Instant::epoch() + Duration::milliseconds(ms); }

// Five standard deviations of a proportion estimated from n Bernoulli(p)
// trials: sd = sqrt(p (1 - p) / n).
double five_sd(double p, double n) { return 5.0 * std::sqrt(p * (1.0 - p) / n); }

// LinkFaults with every fault switched on, at rates that make each visible.
LinkFaults all_faults() {
  LinkFaults f;
  f.loss_probability = 0.02;
  f.burst_enter_probability = 0.01;
  f.burst_exit_probability = 0.3;
  f.burst_loss_probability = 0.8;
  f.delay_one_way = Duration::milliseconds(2);
  f.jitter_max = Duration::microseconds(300);
  f.reorder_probability = 0.05;
  f.reorder_delay = Duration::milliseconds(3);
  f.duplicate_probability = 0.03;
  f.corrupt_probability = 0.02;
  f.corrupt_bits_max = 4;
  f.rate_bits_per_second = 100'000'000;
  f.queue_bytes_max = 16 * 1024;
  f.mtu = 1500;
  f.partitions = {{at_ms(50), at_ms(60)}};
  f.partition_interval_mean = Duration::milliseconds(200);
  f.partition_duration_mean = Duration::milliseconds(5);
  return f;
}

// ---------------------------------------------------------------------------
// No faults.

TEST(FaultModel, DefaultsDeliverEveryFrameOnceAfterTheDelay) {
  FaultModel model(LinkFaults{}, 1);
  for (std::int64_t i = 0; i < 1000; ++i) {
    const Instant now = at_us(i * 37);
    const Verdict v = model.offer(now, 60 + static_cast<std::size_t>(i % 1455));
    ASSERT_EQ(v.dropped, DropReason::None);
    ASSERT_EQ(v.count, 1);
    EXPECT_EQ(v.deliveries[0].at, now + Duration::milliseconds(1));
    EXPECT_EQ(v.deliveries[0].flips, 0);
    EXPECT_FALSE(v.deliveries[0].duplicate);
    EXPECT_FALSE(v.deliveries[0].reordered);
  }
  FaultCounters expected;
  expected.offered = 1000;
  expected.delivered = 1000;
  EXPECT_EQ(model.counters(), expected);
}

TEST(FaultModel, OfferNeverAllocates) {
  FaultModel model(all_faults(), 7);
  EXPECT_EQ(test_support::allocations_during([&] {
              for (std::int64_t i = 0; i < 20'000; ++i) {
                (void)model.offer(at_us(i * 10), 64 + static_cast<std::size_t>(i % 1400));
              }
            }),
            0u);
  // The counter works: a vector does allocate.
  EXPECT_GT(test_support::allocations_during([] { std::vector<int> v(3); }), 0u);
}

TEST(FaultModelDeathTest, TimeGoingBackwardsAborts) {
  FaultModel model(LinkFaults{}, 1);
  (void)model.offer(at_ms(5), 64);
  (void)model.offer(at_ms(5), 64);  // equal is fine
  EXPECT_DEATH((void)model.offer(at_ms(4), 64), "");
}

TEST(FaultModel, DropReasonNames) {
  EXPECT_STREQ(to_string(DropReason::None), "none");
  EXPECT_STREQ(to_string(DropReason::Loss), "loss");
  EXPECT_STREQ(to_string(DropReason::BurstLoss), "burst_loss");
  EXPECT_STREQ(to_string(DropReason::QueueFull), "queue_full");
  EXPECT_STREQ(to_string(DropReason::TooBig), "too_big");
  EXPECT_STREQ(to_string(DropReason::Partitioned), "partitioned");
}

// ---------------------------------------------------------------------------
// Rates over 100k frames.

constexpr int kFrames = 100'000;

TEST(FaultModelRates, IndependentLoss) {
  LinkFaults f;
  f.loss_probability = 0.1;
  FaultModel model(f, 11);
  int lost = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Verdict v = model.offer(at_us(i), 100);
    if (v.dropped == DropReason::Loss) {
      ++lost;
      EXPECT_EQ(v.count, 0);
    } else {
      ASSERT_EQ(v.dropped, DropReason::None);
    }
  }
  // sd = sqrt(0.1 * 0.9 / 1e5) = 0.00095: bound +-0.0047. A rate of 0.11 or
  // 0.09 is 10 sd away.
  EXPECT_NEAR(lost / double(kFrames), 0.1, five_sd(0.1, kFrames));
  EXPECT_EQ(model.counters().lost, static_cast<std::uint64_t>(lost));
  EXPECT_EQ(model.counters().delivered, static_cast<std::uint64_t>(kFrames - lost));
}

TEST(FaultModelRates, Duplication) {
  LinkFaults f;
  f.duplicate_probability = 0.05;
  FaultModel model(f, 12);
  int duplicated = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_us(i * 10);
    const Verdict v = model.offer(now, 100);
    ASSERT_EQ(v.dropped, DropReason::None);
    EXPECT_FALSE(v.deliveries[0].duplicate);
    if (v.count == 2) {
      ++duplicated;
      // The copy arrives with the original (scheduled right after it).
      EXPECT_TRUE(v.deliveries[1].duplicate);
      EXPECT_EQ(v.deliveries[1].at, v.deliveries[0].at);
      EXPECT_EQ(v.deliveries[1].at, now + f.delay_one_way);
    } else {
      ASSERT_EQ(v.count, 1);
    }
  }
  // sd = sqrt(0.05 * 0.95 / 1e5) = 0.00069: bound +-0.0034.
  EXPECT_NEAR(duplicated / double(kFrames), 0.05, five_sd(0.05, kFrames));
  EXPECT_EQ(model.counters().duplicated, static_cast<std::uint64_t>(duplicated));
  EXPECT_EQ(model.counters().delivered, static_cast<std::uint64_t>(kFrames + duplicated));
}

TEST(FaultModelRates, ReorderingPerCopy) {
  LinkFaults f;
  f.reorder_probability = 0.1;
  f.reorder_delay = Duration::milliseconds(5);
  f.duplicate_probability = 0.2;  // duplicates are reordered independently
  FaultModel model(f, 13);
  int copies = 0;
  int reordered = 0;
  int duplicates_only_reordered = 0;  // the late copy is the duplicate
  int originals_only_reordered = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_us(i * 10);
    const Verdict v = model.offer(now, 100);
    ASSERT_EQ(v.dropped, DropReason::None);
    for (int c = 0; c < v.count; ++c) {
      const Delivery& d = v.deliveries[c];
      ++copies;
      if (d.reordered) {
        ++reordered;
        EXPECT_EQ(d.at, now + f.delay_one_way + f.reorder_delay);
      } else {
        EXPECT_EQ(d.at, now + f.delay_one_way);
      }
    }
    if (v.count == 2 && v.deliveries[0].reordered != v.deliveries[1].reordered) {
      (v.deliveries[1].reordered ? duplicates_only_reordered : originals_only_reordered)++;
    }
  }
  // About 120k copies: sd = sqrt(0.1 * 0.9 / 120000) = 0.00087: bound
  // +-0.0043.
  EXPECT_NEAR(reordered / double(copies), 0.1, five_sd(0.1, copies));
  EXPECT_EQ(model.counters().reordered, static_cast<std::uint64_t>(reordered));
  // Each expected 20000 * 0.1 * 0.9 = 1800 times.
  EXPECT_GT(duplicates_only_reordered, 1000);
  EXPECT_GT(originals_only_reordered, 1000);
}

TEST(FaultModelRates, CorruptionFlipsOneToKDistinctBitsAnywhere) {
  LinkFaults f;
  f.corrupt_probability = 0.2;
  f.corrupt_bits_max = 5;
  f.duplicate_probability = 0.1;  // corruption is per copy
  FaultModel model(f, 14);
  constexpr std::size_t kLen = 100;  // 800 bits
  int copies = 0;
  int corrupted = 0;
  std::array<int, 6> by_flips{};
  double bit_sum = 0;
  int bit_count = 0;
  bool first_bit_hit = false;
  bool last_bit_hit = false;
  for (int i = 0; i < kFrames; ++i) {
    const Verdict v = model.offer(at_us(i), kLen);
    for (int c = 0; c < v.count; ++c) {
      const Delivery& d = v.deliveries[c];
      ++copies;
      if (d.flips == 0) {
        continue;
      }
      ++corrupted;
      ASSERT_GE(d.flips, 1);
      ASSERT_LE(d.flips, 5);
      ++by_flips[d.flips];
      for (int b = 0; b < d.flips; ++b) {
        ASSERT_LT(d.flipped_bits[b], kLen * 8);
        if (b > 0) {
          ASSERT_LT(d.flipped_bits[b - 1], d.flipped_bits[b]) << "distinct and ascending";
        }
        bit_sum += d.flipped_bits[b];
        ++bit_count;
        first_bit_hit |= d.flipped_bits[b] == 0;
        last_bit_hit |= d.flipped_bits[b] == kLen * 8 - 1;
      }
      for (std::size_t b = d.flips; b < Delivery::kMaxFlips; ++b) {
        ASSERT_EQ(d.flipped_bits[b], 0u) << "unused slots stay zero";
      }
    }
  }
  // 110k copies: sd = sqrt(0.2 * 0.8 / 110000) = 0.0012: bound +-0.006.
  EXPECT_NEAR(corrupted / double(copies), 0.2, five_sd(0.2, copies));
  EXPECT_EQ(model.counters().corrupted, static_cast<std::uint64_t>(corrupted));
  // The number of flips is uniform in 1..5: each share 0.2 of ~22000
  // corrupted copies, sd = 0.0027, bound +-0.0135.
  for (int k = 1; k <= 5; ++k) {
    EXPECT_NEAR(by_flips[k] / double(corrupted), 0.2, five_sd(0.2, corrupted)) << k << " flips";
  }
  // Positions are uniform over the 800 bits: mean 399.5, sd of one position
  // 800 / sqrt(12) = 231, ~66000 positions (slightly correlated within a copy,
  // being distinct, which only narrows the spread): se 0.9, bound +-4.5.
  EXPECT_NEAR(bit_sum / bit_count, 399.5, 5 * 231.0 / std::sqrt(bit_count));
  EXPECT_TRUE(first_bit_hit);
  EXPECT_TRUE(last_bit_hit);
}

TEST(FaultModelRates, CorruptionOfTinyFramesFlipsAtMostEveryBit) {
  LinkFaults f;
  f.corrupt_probability = 1.0;
  f.corrupt_bits_max = 16;
  FaultModel model(f, 15);
  bool saw_all_eight = false;
  for (int i = 0; i < 1000; ++i) {
    const Verdict v = model.offer(at_us(i), 1);  // 8 bits
    const Delivery& d = v.deliveries[0];
    ASSERT_GE(d.flips, 1);
    ASSERT_LE(d.flips, 8);
    for (int b = 0; b < d.flips; ++b) {
      ASSERT_LT(d.flipped_bits[b], 8u);
      if (b > 0) {
        ASSERT_LT(d.flipped_bits[b - 1], d.flipped_bits[b]);
      }
    }
    saw_all_eight |= d.flips == 8;
  }
  EXPECT_TRUE(saw_all_eight);  // drawn 9..16 times out of 16, clamped to 8
  const Verdict empty = model.offer(at_us(2000), 0);
  EXPECT_EQ(empty.deliveries[0].flips, 0) << "a 0-byte frame has nothing to flip";
}

// ---------------------------------------------------------------------------
// Gilbert-Elliott.

TEST(FaultModelBurst, LossesComeInBurstsOfTheConfiguredMeanLength) {
  LinkFaults f;
  f.burst_enter_probability = 0.01;
  f.burst_exit_probability = 0.2;
  f.burst_loss_probability = 1.0;
  FaultModel model(f, 21);
  constexpr int kN = 1'000'000;
  int lost = 0;
  int bursts = 0;
  int run = 0;
  std::vector<int> lengths;
  for (int i = 0; i < kN; ++i) {
    const Verdict v = model.offer(at_us(i), 64);
    if (v.dropped == DropReason::BurstLoss) {
      ++lost;
      ++run;
    } else {
      ASSERT_EQ(v.dropped, DropReason::None);
      if (run > 0) {
        ++bursts;
        lengths.push_back(run);
        run = 0;
      }
    }
  }
  EXPECT_EQ(model.counters().burst_lost, static_cast<std::uint64_t>(lost));
  // Stationary bad fraction pi = 0.01 / 0.21 = 0.047619. Successive frames
  // are correlated (the chain's second eigenvalue is 1 - 0.01 - 0.2 = 0.79),
  // which multiplies the variance of the mean by (1 + 0.79) / (1 - 0.79) =
  // 8.52: sd = sqrt(pi (1 - pi) * 8.52 / 1e6) = 0.00062, bound +-0.0031.
  const double pi = 0.01 / 0.21;
  EXPECT_NEAR(lost / double(kN), pi, 5 * std::sqrt(pi * (1 - pi) * (1.79 / 0.21) / kN));
  // Bad runs are geometric with mean 1 / 0.2 = 5 and sd sqrt(0.8) / 0.2 =
  // 4.47; about 1e6 * pi * 0.2 = 9500 of them: se 0.046, bound +-0.23.
  // Independent losses at the same rate would give runs of mean 1.05.
  const double mean = static_cast<double>(lost) / bursts;
  EXPECT_NEAR(mean, 5.0, 5 * 4.47 / std::sqrt(bursts));
  EXPECT_GT(*std::max_element(lengths.begin(), lengths.end()), 30);  // P(run > 30) = 0.8^30 = 0.1%; ~10 such
}

TEST(FaultModelBurst, LossInTheBadStateIsPartial) {
  LinkFaults f;
  f.burst_enter_probability = 0.05;
  f.burst_exit_probability = 0.05;
  f.burst_loss_probability = 0.3;
  FaultModel model(f, 22);
  constexpr int kN = 1'000'000;
  for (int i = 0; i < kN; ++i) {
    (void)model.offer(at_us(i), 64);
  }
  // pi = 0.5, loss rate 0.15. Correlation factor (1 + 0.9) / (1 - 0.9) = 19
  // for the state; the Bernoulli(0.3) thinning adds independent variance.
  // sd <= sqrt((0.09 * 0.25 * 19 + 0.5 * 0.21) / 1e6) = 0.00073, bound
  // +-0.0037.
  EXPECT_NEAR(model.counters().burst_lost / double(kN), 0.15, 0.0037);
}

// ---------------------------------------------------------------------------
// Rate limiter.

TEST(FaultModelRate, OverloadDeliversTheConfiguredRateAndBoundsTheQueue) {
  LinkFaults f;
  f.rate_bits_per_second = 10'000'000;  // 1000-byte frame: 800 us
  f.queue_bytes_max = 20'000;
  FaultModel model(f, 31);
  constexpr std::size_t kLen = 1000;
  // Offered at 20 Mbit/s: one frame every 400 us for 40 s.
  Instant first = Instant::never();
  Instant last;
  std::uint64_t delivered = 0;
  int dropped = 0;
  // The longest a frame can wait: a full queue drains in 20000 * 8 / 1e7 s.
  const Duration queue_delay_max = Duration::milliseconds(16);
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_us(i * 400);
    const Verdict v = model.offer(now, kLen);
    if (v.dropped == DropReason::QueueFull) {
      ++dropped;
      continue;
    }
    ASSERT_EQ(v.dropped, DropReason::None);
    const Instant at = v.deliveries[0].at;
    ASSERT_GE(at - now - f.delay_one_way, Duration::microseconds(800));
    ASSERT_LE(at - now - f.delay_one_way, queue_delay_max);
    first = std::min(first, at);
    last = std::max(last, at);
    ++delivered;
  }
  // Saturated, the link sends back to back: throughput is the rate (here
  // exactly, to within one frame's rounding).
  const double throughput = static_cast<double>((delivered - 1) * kLen * 8) / (last - first).seconds_f();
  EXPECT_NEAR(throughput, 10e6, 10e6 * 0.01);
  // Half the offered load cannot fit.
  EXPECT_NEAR(dropped / double(kFrames), 0.5, 0.01);
  EXPECT_EQ(model.counters().queue_full, static_cast<std::uint64_t>(dropped));
  EXPECT_LE(model.counters().queue_bytes_peak, 20'000u);
  EXPECT_GE(model.counters().queue_bytes_peak, 19'000u);  // it did fill up
}

TEST(FaultModelRate, UnderloadAddsSerialisationAndPropagationOnly) {
  LinkFaults f;
  f.rate_bits_per_second = 10'000'000;
  f.delay_one_way = Duration::milliseconds(3);
  FaultModel model(f, 32);
  Instant now = at_ms(0);
  for (int i = 0; i < 10'000; ++i) {
    // Gaps of 800 us (exactly one frame time) to 1.8 ms: never a queue.
    now += Duration::microseconds(800 + (i * 7919) % 1000);
    const Verdict v = model.offer(now, 1000);
    ASSERT_EQ(v.dropped, DropReason::None);
    ASSERT_EQ(v.deliveries[0].at, now + Duration::microseconds(800) + Duration::milliseconds(3));
  }
  EXPECT_EQ(model.counters().queue_full, 0u);
  EXPECT_EQ(model.counters().queue_bytes_peak, 1000u);
}

TEST(FaultModelRate, SerialisationIsExactOverManyFrames) {
  // 100 bytes at 3 Mbit/s take 266666.67 ns: a burst of k frames leaves at
  // ceil(k * 800e9 / 3e6) ns, with no rounding error accumulating.
  LinkFaults f;
  f.rate_bits_per_second = 3'000'000;
  f.delay_one_way = Duration::zero();
  f.queue_bytes_max = 100 * 1000;
  FaultModel model(f, 33);
  for (std::int64_t k = 1; k <= 1000; ++k) {
    const Verdict v = model.offer(at_ms(0), 100);
    ASSERT_EQ(v.dropped, DropReason::None);
    const std::int64_t expected = (k * 800'000'000'000 + 2'999'999) / 3'000'000;
    ASSERT_EQ(v.deliveries[0].at.ns(), expected) << k;
  }
  // The queue is full now: the next frame is tail-dropped, and once the
  // whole backlog has drained the link takes frames again.
  EXPECT_EQ(model.offer(at_ms(0), 100).dropped, DropReason::QueueFull);
  EXPECT_EQ(model.counters().queue_bytes_peak, 100'000u);
  const Verdict later = model.offer(at_ms(300), 100);
  ASSERT_EQ(later.dropped, DropReason::None);
  EXPECT_EQ(later.deliveries[0].at, at_ms(300) + Duration::nanoseconds(266'667));
}

TEST(FaultModelRate, QueueDrainsContinuously) {
  // 1000-byte frames at 8 Mbit/s: 1 ms each; the queue holds 2 frames' worth.
  LinkFaults f;
  f.rate_bits_per_second = 8'000'000;
  f.queue_bytes_max = 2000;
  f.delay_one_way = Duration::zero();
  FaultModel model(f, 34);
  EXPECT_EQ(model.offer(at_ms(0), 1000).deliveries[0].at, at_ms(1));
  EXPECT_EQ(model.offer(at_ms(0), 1000).deliveries[0].at, at_ms(2));
  EXPECT_EQ(model.offer(at_ms(0), 1).dropped, DropReason::QueueFull);
  // Half a millisecond later 500 bytes have gone: 500 fit, 501 do not.
  EXPECT_EQ(model.offer(at_us(500), 501).dropped, DropReason::QueueFull);
  EXPECT_EQ(model.offer(at_us(500), 500).deliveries[0].at, at_us(2500));
  EXPECT_EQ(model.counters().queue_full, 2u);
}

// ---------------------------------------------------------------------------
// Delay, jitter, reordering.

TEST(FaultModelDelay, JitterKeepsFifoAndStaysInItsBounds) {
  LinkFaults f;
  f.jitter_max = Duration::milliseconds(1);
  FaultModel model(f, 41);
  Instant previous;
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_us(i * 10);  // 100 frames per jitter window
    const Verdict v = model.offer(now, 64);
    const Instant at = v.deliveries[0].at;
    ASSERT_GE(at, now + f.delay_one_way);
    ASSERT_LE(at, now + f.delay_one_way + f.jitter_max);
    if (i > 0) {
      ASSERT_GE(at, previous) << "frame " << i << " overtook its predecessor";
    }
    previous = at;
  }
}

TEST(FaultModelDelay, SparseJitterIsUniform) {
  LinkFaults f;
  f.jitter_max = Duration::milliseconds(1);
  FaultModel model(f, 42);
  double sum_ms = 0;
  int lower_half = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_ms(i * 10);  // farther apart than the jitter: no FIFO clamping
    const double extra = (model.offer(now, 64).deliveries[0].at - now - f.delay_one_way).seconds_f() * 1e3;
    sum_ms += extra;
    lower_half += extra < 0.5 ? 1 : 0;
  }
  // Uniform [0, 1] ms: mean 0.5, sd 1 / sqrt(12) = 0.2887, se over 1e5
  // 0.00091: bound +-0.0046. Half below the middle: bound +-0.0079.
  EXPECT_NEAR(sum_ms / kFrames, 0.5, 5 * 0.2887 / std::sqrt(kFrames));
  EXPECT_NEAR(lower_half / double(kFrames), 0.5, five_sd(0.5, kFrames));
}

TEST(FaultModelDelay, ReorderedFramesAreOvertaken) {
  LinkFaults f;
  f.reorder_probability = 0.1;
  f.reorder_delay = Duration::milliseconds(5);
  f.jitter_max = Duration::microseconds(200);
  FaultModel model(f, 43);
  int overtaken = 0;
  Instant held_at = Instant::never();  // arrival of the last reordered frame
  for (int i = 0; i < 10'000; ++i) {
    const Verdict v = model.offer(at_ms(i), 64);  // 1 ms apart, less than reorder_delay
    const Delivery& d = v.deliveries[0];
    if (d.reordered) {
      held_at = d.at;
    } else if (held_at != Instant::never()) {
      ASSERT_LT(d.at, held_at) << "a later frame arrives before the held one";
      ++overtaken;
      held_at = Instant::never();
    }
  }
  EXPECT_GT(overtaken, 700);  // ~10000 * 0.1 * 0.9 = 900
}

TEST(FaultModelDelay, NonReorderedCopiesStayInOrderUnderEveryFault) {
  FaultModel model(all_faults(), 44);
  Instant previous = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
  for (int i = 0; i < kFrames; ++i) {
    const Instant now = at_us(i * 7);
    const Verdict v = model.offer(now, 64 + static_cast<std::size_t>(i % 1451));
    for (int c = 0; c < v.count; ++c) {
      const Delivery& d = v.deliveries[c];
      ASSERT_GE(d.at, now + model.faults().delay_one_way);
      if (!d.reordered) {
        ASSERT_GE(d.at, previous);
        previous = d.at;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// MTU and partitions.

TEST(FaultModelMtu, FramesAboveMtuPlusEthernetHeaderAreDropped) {
  LinkFaults f;
  f.mtu = 1500;
  FaultModel model(f, 51);
  EXPECT_EQ(model.offer(at_ms(0), 1514).dropped, DropReason::None);
  EXPECT_EQ(model.offer(at_ms(0), 1515).dropped, DropReason::TooBig);
  EXPECT_EQ(model.offer(at_ms(0), 9000).dropped, DropReason::TooBig);
  EXPECT_EQ(model.offer(at_ms(0), 0).dropped, DropReason::None);
  EXPECT_EQ(model.counters().too_big, 2u);
  EXPECT_EQ(model.counters().delivered, 2u);

  f.mtu = 68;
  FaultModel small(f, 51);
  EXPECT_EQ(small.offer(at_ms(0), 82).dropped, DropReason::None);
  EXPECT_EQ(small.offer(at_ms(0), 83).dropped, DropReason::TooBig);
}

TEST(FaultModelPartition, ScheduledWindowsDropExactlyInside) {
  LinkFaults f;
  f.delay_one_way = Duration::milliseconds(5);
  f.partitions = {
      {at_ms(100), at_ms(110)},  // out of order on purpose
      {at_ms(10), at_ms(20)},
      {at_ms(15), at_ms(30)},  // overlaps the one before
      {at_ms(50), at_ms(50)},  // empty
      {at_ms(30), at_ms(31)},  // touches [15, 30)
  };
  FaultModel model(f, 52);
  int partitioned = 0;
  for (std::int64_t us = 0; us < 200'000; us += 250) {
    const Instant now = at_us(us);
    bool inside = false;
    for (const Partition& p : f.partitions) {
      inside |= p.start <= now && now < p.end;
    }
    const Verdict v = model.offer(now, 64);
    ASSERT_EQ(v.dropped, inside ? DropReason::Partitioned : DropReason::None) << us << " us";
    partitioned += inside ? 1 : 0;
  }
  EXPECT_EQ(partitioned, 4 * (21 + 10));  // [10, 31) and [100, 110) ms at 4 frames per ms
  EXPECT_EQ(model.counters().partitioned, static_cast<std::uint64_t>(partitioned));
}

TEST(FaultModelPartition, FramesAlreadyInFlightStillArrive) {
  LinkFaults f;
  f.delay_one_way = Duration::milliseconds(5);
  f.partitions = {{at_ms(10), at_ms(20)}};
  FaultModel model(f, 53);
  const Verdict before = model.offer(at_ms(9), 64);
  ASSERT_EQ(before.dropped, DropReason::None);
  EXPECT_EQ(before.deliveries[0].at, at_ms(14));  // arrives inside the window
  EXPECT_EQ(model.offer(at_ms(10), 64).dropped, DropReason::Partitioned);
  EXPECT_EQ(model.offer(at_ms(20), 64).dropped, DropReason::None);
}

TEST(FaultModelPartition, RandomOutagesHaveTheConfiguredDutyCycle) {
  LinkFaults f;
  f.partition_interval_mean = Duration::milliseconds(100);
  f.partition_duration_mean = Duration::milliseconds(25);
  FaultModel model(f, 54);
  constexpr int kN = 1'000'000;  // one frame per ms: 1000 s, ~8000 outages
  int down = 0;
  int outages = 0;
  bool previous_down = false;
  for (int i = 0; i < kN; ++i) {
    const bool is_down = model.offer(at_ms(i), 64).dropped == DropReason::Partitioned;
    down += is_down ? 1 : 0;
    outages += is_down && !previous_down ? 1 : 0;
    previous_down = is_down;
  }
  // Down fraction 25 / 125 = 0.2. For alternating exponential periods of
  // means u = 0.1 s and d = 0.025 s the down time over T has variance
  // 2 u^2 d^2 T / (u + d)^3, so the fraction has sd sqrt(2 u^2 d^2 /
  // ((u + d)^3 T)) = 0.0025 over T = 1000 s: bound +-0.0127.
  EXPECT_NEAR(down / double(kN), 0.2, 0.0127);
  // Outages seen in frames last 25 ms on average, a little more as the
  // shortest ones fall between two frames (P = E[max(0, 1 ms - D)] / 1 ms =
  // 2%) or merge across an up period with no frame in it (0.5%): ~25.6
  // frames. Exponential lengths have sd = mean, so over ~7800 outages se =
  // 0.29: bound 25.6 +- 1.45.
  EXPECT_NEAR(down / double(outages), 25.6, 1.45);
  // ~1000 s / 125 ms = 8000 cycles, fewer seen (see above); sd of the count
  // of an alternating renewal process ~ sqrt(T (u^2 + d^2)) / (u + d)^1.5 =
  // 73: bound +-370.
  EXPECT_NEAR(outages, 7800, 370);
}

TEST(FaultModelPartition, RandomOutagesSurviveLongIdleGaps) {
  // The outage process is advanced in O(1) however long the gap: sampling it
  // once an hour still finds it down about d / (u + d) of the time.
  LinkFaults f;
  f.partition_interval_mean = Duration::milliseconds(30);
  f.partition_duration_mean = Duration::milliseconds(10);
  FaultModel model(f, 55);
  int down = 0;
  constexpr int kN = 100'000;
  for (int i = 0; i < kN; ++i) {
    down += model.offer(at_ms(0) + Duration::seconds(3600) * i, 64).dropped == DropReason::Partitioned ? 1 : 0;
  }
  // Samples an hour apart are independent: binomial, p = 0.25, bound
  // +-0.0068.
  EXPECT_NEAR(down / double(kN), 0.25, five_sd(0.25, kN));
}

// ---------------------------------------------------------------------------
// Determinism and bookkeeping.

std::vector<Verdict> run(const LinkFaults& f, std::uint64_t seed, int frames) {
  FaultModel model(f, seed);
  std::vector<Verdict> out;
  out.reserve(static_cast<std::size_t>(frames));
  for (int i = 0; i < frames; ++i) {
    out.push_back(model.offer(at_us(i * 13), 64 + static_cast<std::size_t>(i * 31 % 1500)));
  }
  return out;
}

TEST(FaultModelDeterminism, SameSeedSameVerdicts) {
  EXPECT_EQ(run(all_faults(), 42, 20'000), run(all_faults(), 42, 20'000));
}

TEST(FaultModelDeterminism, DifferentSeedDifferentVerdicts) {
  EXPECT_NE(run(all_faults(), 42, 20'000), run(all_faults(), 43, 20'000));
}

TEST(FaultModelDeterminism, OneFaultDoesNotPerturbAnother) {
  // Each fault draws from its own stream: switching duplication and
  // corruption on leaves the same frames lost.
  LinkFaults loss_only;
  loss_only.loss_probability = 0.1;
  LinkFaults more = loss_only;
  more.duplicate_probability = 0.3;
  more.corrupt_probability = 0.3;
  more.jitter_max = Duration::microseconds(50);
  const auto a = run(loss_only, 5, 10'000);
  const auto b = run(more, 5, 10'000);
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].dropped, b[i].dropped) << i;
  }
}

// FNV-1a over every field of a verdict sequence.
std::uint64_t digest(const std::vector<Verdict>& verdicts) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint64_t x) {
    for (int i = 0; i < 8; ++i) {
      h = (h ^ ((x >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
    }
  };
  for (const Verdict& v : verdicts) {
    mix(static_cast<std::uint64_t>(v.dropped));
    mix(v.count);
    for (int c = 0; c < v.count; ++c) {
      const Delivery& d = v.deliveries[c];
      mix(static_cast<std::uint64_t>(d.at.ns()));
      mix(d.flips);
      mix(d.duplicate);
      mix(d.reordered);
      for (int b = 0; b < d.flips; ++b) {
        mix(d.flipped_bits[b]);
      }
    }
  }
  return h;
}

TEST(FaultModelDeterminism, PinnedSequence) {
  // Pins the random streams: a change to the generator, a sub-seed, a
  // distribution or the order of draws shows up here, as it would change
  // every recorded replay. Update the constants only on purpose.
  LinkFaults f;
  f.loss_probability = 0.5;
  std::string pattern;
  for (const Verdict& x : run(f, 2024, 16)) {
    pattern += x.dropped == DropReason::Loss ? 'L' : '.';
  }
  EXPECT_EQ(pattern, "LL.LL....LLLL.L.");
  EXPECT_EQ(digest(run(all_faults(), 2024, 5000)), 7901978800413221318ULL);
}

TEST(FaultModelCounters, AddUpUnderEveryFault) {
  FaultModel model(all_faults(), 61);
  std::uint64_t copies = 0;
  std::array<std::uint64_t, 6> drops{};
  for (int i = 0; i < kFrames; ++i) {
    // Varying gaps and lengths, some above the MTU.
    const Instant now = at_us(i * 9 + i % 5);
    const Verdict v = model.offer(now, 40 + static_cast<std::size_t>(i * 37 % 1600));
    ++drops[static_cast<std::size_t>(v.dropped)];
    copies += v.count;
    if (v.dropped != DropReason::None) {
      ASSERT_EQ(v.count, 0);
    }
  }
  const FaultCounters& c = model.counters();
  EXPECT_EQ(c.offered, static_cast<std::uint64_t>(kFrames));
  EXPECT_EQ(c.delivered, copies);
  EXPECT_EQ(c.lost, drops[static_cast<std::size_t>(DropReason::Loss)]);
  EXPECT_EQ(c.burst_lost, drops[static_cast<std::size_t>(DropReason::BurstLoss)]);
  EXPECT_EQ(c.queue_full, drops[static_cast<std::size_t>(DropReason::QueueFull)]);
  EXPECT_EQ(c.too_big, drops[static_cast<std::size_t>(DropReason::TooBig)]);
  EXPECT_EQ(c.partitioned, drops[static_cast<std::size_t>(DropReason::Partitioned)]);
  EXPECT_EQ(c.offered, c.delivered - c.duplicated + c.lost + c.burst_lost + c.queue_full + c.too_big + c.partitioned);
  // Every kind happened.
  EXPECT_GT(c.lost, 0u);
  EXPECT_GT(c.burst_lost, 0u);
  EXPECT_GT(c.queue_full, 0u);
  EXPECT_GT(c.too_big, 0u);
  EXPECT_GT(c.partitioned, 0u);
  EXPECT_GT(c.duplicated, 0u);
  EXPECT_GT(c.reordered, 0u);
  EXPECT_GT(c.corrupted, 0u);
  EXPECT_LE(c.queue_bytes_peak, 16u * 1024);
}

// ---------------------------------------------------------------------------
// Distributions.

TEST(Distributions, PortableLogMatchesLibm) {
  Rng rng(71);
  for (int i = 0; i < 100'000; ++i) {
    const double x = 1.0 - rng.unit();
    ASSERT_NEAR(portable_log(x), std::log(x), 4e-16 * std::max(1.0, std::fabs(std::log(x)))) << x;
  }
  EXPECT_EQ(portable_log(1.0), 0.0);
  EXPECT_NEAR(portable_log(0x1.0p-53), -53 * 0.69314718055994530942, 1e-13);
}

TEST(Distributions, ExponentialDurationHasItsMean) {
  Rng rng(72);
  const Duration mean = Duration::milliseconds(10);
  double sum = 0;
  int above_mean = 0;
  for (int i = 0; i < kFrames; ++i) {
    const Duration d = exponential_duration(rng, mean);
    ASSERT_GE(d, Duration::nanoseconds(1));
    sum += static_cast<double>(d.ns());
    above_mean += d > mean ? 1 : 0;
  }
  // sd of an exponential = its mean: se = 10 ms / sqrt(1e5), bound +-0.16 ms.
  EXPECT_NEAR(sum / kFrames, 1e7, 5 * 1e7 / std::sqrt(kFrames));
  // P(X > mean) = 1/e.
  EXPECT_NEAR(above_mean / double(kFrames), std::exp(-1.0), five_sd(std::exp(-1.0), kFrames));
  EXPECT_EQ(exponential_duration(rng, Duration::zero()), Duration::zero());
}

TEST(Distributions, UniformDurationIncludesBothEnds) {
  Rng rng(73);
  bool zero = false;
  bool max = false;
  for (int i = 0; i < 10'000; ++i) {
    const Duration d = uniform_duration(rng, Duration::nanoseconds(3));
    ASSERT_GE(d, Duration::zero());
    ASSERT_LE(d, Duration::nanoseconds(3));
    zero |= d == Duration::zero();
    max |= d == Duration::nanoseconds(3);
  }
  EXPECT_TRUE(zero);
  EXPECT_TRUE(max);
  EXPECT_EQ(uniform_duration(rng, Duration::zero()), Duration::zero());
}

}  // namespace
}  // namespace tapstack::sim
