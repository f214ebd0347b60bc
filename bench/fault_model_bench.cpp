// FaultModel::offer() rate (frames/s) for 64-byte frames: with no faults,
// with every fault enabled at plausible rates, and with every fault at a high
// rate (each decision path taken often). The simulator's target is 5 million
// frames/s through a faulty link end to end, so offer() must be far faster.
#include <benchmark/benchmark.h>

#include "sim/fault_model.hpp"

namespace {

using namespace tapstack;
using namespace tapstack::sim;

LinkFaults every_fault(double rate) {
  LinkFaults f;
  f.loss_probability = rate;
  f.burst_enter_probability = rate / 10;
  f.burst_exit_probability = 0.3;
  f.burst_loss_probability = 0.8;
  f.delay_one_way = Duration::milliseconds(1);
  f.jitter_max = Duration::microseconds(100);
  f.reorder_probability = rate;
  f.reorder_delay = Duration::milliseconds(2);
  f.duplicate_probability = rate;
  f.corrupt_probability = rate;
  f.corrupt_bits_max = 4;
  f.rate_bits_per_second = 1'000'000'000;  // 64 bytes: 512 ns
  f.queue_bytes_max = 64 * 1024;
  for (std::int64_t s = 1; s <= 100; ++s) {
    f.partitions.push_back({Instant::epoch() + Duration::seconds(s), Instant::epoch() + Duration::seconds(s) +
                                                                         Duration::milliseconds(5)});
  }
  f.partition_interval_mean = Duration::milliseconds(500);
  f.partition_duration_mean = Duration::milliseconds(5);
  return f;
}

void run(benchmark::State& state, const LinkFaults& faults) {
  FaultModel model(faults, 42);
  Instant now = Instant::epoch();
  for (auto _ : state) {
    now += Duration::nanoseconds(600);  // 853 Mbit/s offered: the queue stays short
    benchmark::DoNotOptimize(model.offer(now, 64));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["delivered_share"] =
      static_cast<double>(model.counters().delivered) / static_cast<double>(model.counters().offered);
}

void BM_OfferNoFaults(benchmark::State& state) { run(state, LinkFaults{}); }
void BM_OfferEveryFault1Percent(benchmark::State& state) { run(state, every_fault(0.01)); }
void BM_OfferEveryFault20Percent(benchmark::State& state) { run(state, every_fault(0.2)); }

}  // namespace

BENCHMARK(BM_OfferNoFaults);
BENCHMARK(BM_OfferEveryFault1Percent);
BENCHMARK(BM_OfferEveryFault20Percent);
