// Simulator throughput: frames delivered per CPU-second through a faulty link,
// every fault enabled, 64-byte frames, everything through the scheduler (the
// issue's target: at least 5 million frames/s). The hosts do the least a host
// can (a sender transmitting one prepared frame in bursts, a sink counting),
// so the figure is the simulator's own cost: port, fault model, frame pool,
// event queue, delivery and host driving. For context: the same with the test
// hosts (sequence numbers and a check per frame), without faults, and the
// bare scheduler.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>

#include "sim/test_hosts.hpp"
#include "sim/world.hpp"

namespace {

using namespace tapstack;
using namespace tapstack::sim;

// Sends `burst` copies of one frame every `interval`.
class BurstSender final : public Host {
 public:
  BurstSender(HostEnv env, wire::MacAddress destination, std::uint32_t burst, Duration interval)
      : device_(env.device), frame_(64), burst_(burst), interval_(interval) {
    destination.store(frame_, 0);
    device_.mac().store(frame_, 6);
    store_be16(frame_, 12, kTestEtherType);
  }
  void receive(Bytes, Instant) override {}
  Instant poll(Instant now) override {
    for (std::uint32_t i = 0; i < burst_; ++i) {
      auto taken = device_.transmit(as_bytes(frame_));
      if (!taken.ok() || !*taken) {
        break;
      }
    }
    return now + interval_;
  }

 private:
  link::Device& device_;
  ByteVector frame_;
  std::uint32_t burst_;
  Duration interval_;
};

class CountingSink final : public Host {
 public:
  explicit CountingSink(HostEnv) {}
  void receive(Bytes frame, Instant) override {
    frames_++;
    bytes_ += frame.size();
  }
  Instant poll(Instant) override { return Instant::never(); }
  std::uint64_t frames() const { return frames_; }

 private:
  std::uint64_t frames_ = 0;
  std::uint64_t bytes_ = 0;
};

// Every fault on: what a stack test under stress would configure.
LinkFaults all_faults() {
  LinkFaults f;
  f.loss_probability = 0.01;
  f.burst_enter_probability = 0.001;
  f.burst_exit_probability = 0.5;
  f.burst_loss_probability = 0.5;
  f.delay_one_way = Duration::microseconds(100);
  f.jitter_max = Duration::microseconds(10);
  f.reorder_probability = 0.01;
  f.reorder_delay = Duration::microseconds(50);
  f.duplicate_probability = 0.01;
  f.corrupt_probability = 0.01;
  f.corrupt_bits_max = 3;
  f.rate_bits_per_second = 10'000'000'000;  // 64-byte frames: 51.2 ns each
  f.queue_bytes_max = 256 * 1024;
  f.partitions = {Partition{Instant::epoch() + Duration::milliseconds(50),
                            Instant::epoch() + Duration::milliseconds(51)}};
  f.partition_interval_mean = Duration::milliseconds(100);
  f.partition_duration_mean = Duration::milliseconds(1);
  return f;
}

std::unique_ptr<World> make_world(const LinkFaults& faults, Link*& link) {
  auto world = World::create(WorldConfig{}).value();
  LinkConfig config;
  config.name = "bench";
  config.a.name = "a";
  config.b.name = "b";
  config.a_to_b = faults;
  link = world->add_link(config).value();
  return world;
}

// 64 frames every 5 us: 12.8 million frames per virtual second, below the
// link's 19.5 million, so the rate limiter queues but rarely tail-drops.
void BM_FaultyLinkFrames(benchmark::State& state) {
  Link* link = nullptr;
  auto world = make_world(all_faults(), link);
  (void)world->emplace_host<BurstSender>("sender", link->a(), link->b().mac(), 64u, Duration::microseconds(5));
  CountingSink* sink = *world->emplace_host<CountingSink>("sink", link->b());
  (void)world->run_for(Duration::milliseconds(10));  // warm-up: pools and queues at size
  const std::uint64_t before = link->a_to_b().counters().delivered;
  for (auto _ : state) {
    (void)world->run_for(Duration::milliseconds(1));
  }
  const FaultCounters& c = link->a_to_b().counters();
  state.SetItemsProcessed(static_cast<std::int64_t>(c.delivered - before));
  state.counters["lost"] = static_cast<double>(c.lost + c.burst_lost + c.partitioned + c.queue_full);
  state.counters["corrupted"] = static_cast<double>(c.corrupted);
  state.counters["dup"] = static_cast<double>(c.duplicated);
  state.counters["reordered"] = static_cast<double>(c.reordered);
  state.counters["queue_peak"] = static_cast<double>(world->scheduler().pending_peak());
  benchmark::DoNotOptimize(sink->frames());
}
BENCHMARK(BM_FaultyLinkFrames)->Unit(benchmark::kMillisecond);

void BM_PerfectLinkFrames(benchmark::State& state) {
  Link* link = nullptr;
  LinkFaults none;
  none.delay_one_way = Duration::microseconds(100);
  auto world = make_world(none, link);
  (void)world->emplace_host<BurstSender>("sender", link->a(), link->b().mac(), 64u, Duration::microseconds(5));
  (void)world->emplace_host<CountingSink>("sink", link->b());
  (void)world->run_for(Duration::milliseconds(10));
  const std::uint64_t before = link->a_to_b().counters().delivered;
  for (auto _ : state) {
    (void)world->run_for(Duration::milliseconds(1));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(link->a_to_b().counters().delivered - before));
}
BENCHMARK(BM_PerfectLinkFrames)->Unit(benchmark::kMillisecond);

// The test hosts: a sequence number and a 64-bit check written and verified per frame.
void BM_FaultyLinkTestHosts(benchmark::State& state) {
  Link* link = nullptr;
  auto world = make_world(all_faults(), link);
  FloodConfig flood;
  flood.destination = link->b().mac();
  flood.frames = 0xffffffffULL;
  flood.burst = 64;
  flood.interval = Duration::microseconds(5);
  (void)world->emplace_host<FloodSender>("sender", link->a(), flood);
  (void)world->emplace_host<FloodSink>("sink", link->b(), FloodSinkConfig{.frames_expected = 0, .announce = false});
  (void)world->run_for(Duration::milliseconds(10));
  const std::uint64_t before = link->a_to_b().counters().delivered;
  for (auto _ : state) {
    (void)world->run_for(Duration::milliseconds(1));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(link->a_to_b().counters().delivered - before));
}
BENCHMARK(BM_FaultyLinkTestHosts)->Unit(benchmark::kMillisecond);

// The fault model alone, every fault on (its verdicts are part of every
// frame's cost above).
void BM_FaultModelOffer(benchmark::State& state) {
  FaultModel model(all_faults(), 1);
  std::int64_t ns = 0;
  for (auto _ : state) {
    ns += 5;
    benchmark::DoNotOptimize(model.offer(Instant::from_ns(ns), 64));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FaultModelOffer);

// The bare event queue: a typed event that reschedules itself, `range(0)` in flight.
class Chain final : public EventTarget {
 public:
  explicit Chain(Scheduler& scheduler) : scheduler_(scheduler) {}
  void on_event(Instant now, std::uint64_t token) override {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    scheduler_.schedule_at(now + Duration::nanoseconds(static_cast<std::int64_t>(state_ >> 52)), *this, token);
  }

 private:
  Scheduler& scheduler_;
  std::uint64_t state_ = 1;
};

void BM_SchedulerEvents(benchmark::State& state) {
  Scheduler scheduler;
  Chain chain(scheduler);
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    scheduler.schedule_at(Instant::from_ns(i), chain, static_cast<std::uint64_t>(i));
  }
  std::uint64_t events = 0;
  for (auto _ : state) {
    events += scheduler.run_until(Instant::never(), 10'000).events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_SchedulerEvents)->Arg(16)->Arg(1024)->Arg(65536);

}  // namespace
