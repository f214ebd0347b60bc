// A simulated link with no faults is a perfect wire: every frame arrives
// exactly once, intact, in order, exactly delay_one_way after it was sent.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/world.hpp"

namespace tapstack::sim {
namespace {

struct Arrival {
  ByteVector frame;
  Instant at;
};

class Collector final : public Host {
 public:
  void receive(Bytes frame, Instant now) override {
    arrivals.push_back(Arrival{ByteVector(frame.begin(), frame.end()), now});
  }
  Instant poll(Instant) override { return Instant::never(); }
  std::vector<Arrival> arrivals;
};

struct Send {
  std::int64_t gap_ns;  // after the previous send (0: same instant)
  std::size_t len;
  std::uint8_t fill;
};

RC_GTEST_PROP(LinkProp, WithoutFaultsEveryFrameArrivesOnceInOrderAfterExactlyTheDelay, ()) {
  const std::int64_t delay_ns = *rc::gen::inRange<std::int64_t>(0, 20'000'000);
  const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  const bool reverse = *rc::gen::arbitrary<bool>();
  const auto sends = *rc::gen::container<std::vector<Send>>(rc::gen::build<Send>(
      rc::gen::set(&Send::gap_ns, rc::gen::oneOf(rc::gen::just<std::int64_t>(0),
                                                 rc::gen::inRange<std::int64_t>(0, 5'000'000))),
      rc::gen::set(&Send::len, rc::gen::inRange<std::size_t>(14, 1515)),
      rc::gen::set(&Send::fill, rc::gen::arbitrary<std::uint8_t>())));

  WorldConfig world_config;
  world_config.seed = seed;
  auto world = World::create(world_config).value();
  LinkConfig config;
  config.name = "l";
  config.a.name = "a";
  config.b.name = "b";
  LinkFaults& faults = reverse ? config.b_to_a : config.a_to_b;
  faults.delay_one_way = Duration::nanoseconds(delay_ns);
  Link& link = *world->add_link(config).value();
  Port& from = reverse ? link.b() : link.a();
  Port& to = reverse ? link.a() : link.b();
  auto collector = std::make_unique<Collector>();
  Collector* sink = collector.get();
  RC_ASSERT(world->add_host("sink", to, std::move(collector)).ok());

  std::vector<Arrival> sent;
  Instant t = Instant::epoch();
  for (const Send& s : sends) {
    t += Duration::nanoseconds(s.gap_ns);
    (void)world->run_until(t);
    ByteVector frame(s.len, std::byte{s.fill});
    store_be16(frame, 12, static_cast<std::uint16_t>(sent.size()));  // distinguishes equal fills
    const auto taken = from.transmit(as_bytes(frame));
    RC_ASSERT(taken.ok());
    RC_ASSERT(*taken);
    sent.push_back(Arrival{frame, t + Duration::nanoseconds(delay_ns)});
  }
  const RunResult run = world->run_until(Instant::never());
  RC_ASSERT(run.stop == RunStop::Idle);

  RC_ASSERT(sink->arrivals.size() == sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    RC_ASSERT(sink->arrivals[i].frame == sent[i].frame);
    RC_ASSERT(sink->arrivals[i].at == sent[i].at);
  }
  const Channel& wire = reverse ? link.b_to_a() : link.a_to_b();
  RC_ASSERT(wire.counters().offered == sent.size());
  RC_ASSERT(wire.counters().delivered == sent.size());
  RC_ASSERT(wire.in_flight() == 0u);
}

// With every fault on, the link delivers exactly what its fault model decides:
// the copies of a FaultModel seeded like the link direction, each with its
// bits flipped, at its instant, copies of equal instants in the order they
// were decided. (This pins down the channel's delivery lanes too: they must
// not change the order the scheduler alone would give.)
RC_GTEST_PROP(LinkProp, DeliversExactlyTheFaultModelsVerdicts, ()) {
  const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
  LinkFaults faults;
  faults.loss_probability = *rc::gen::inRange(0, 30) / 100.0;
  faults.duplicate_probability = *rc::gen::inRange(0, 50) / 100.0;
  faults.reorder_probability = *rc::gen::inRange(0, 50) / 100.0;
  faults.reorder_delay = Duration::nanoseconds(*rc::gen::inRange<std::int64_t>(1, 3'000'000));
  faults.corrupt_probability = *rc::gen::inRange(0, 50) / 100.0;
  faults.corrupt_bits_max = *rc::gen::inRange<std::uint32_t>(1, 17);
  faults.delay_one_way = Duration::nanoseconds(*rc::gen::inRange<std::int64_t>(0, 2'000'000));
  faults.jitter_max = Duration::nanoseconds(*rc::gen::inRange<std::int64_t>(0, 500'000));
  if (*rc::gen::arbitrary<bool>()) {
    faults.rate_bits_per_second = *rc::gen::inRange<std::uint64_t>(1'000'000, 10'000'000'000);
    faults.queue_bytes_max = 1'000'000;
  }
  const auto sends = *rc::gen::container<std::vector<Send>>(rc::gen::build<Send>(
      rc::gen::set(&Send::gap_ns, rc::gen::oneOf(rc::gen::just<std::int64_t>(0),
                                                 rc::gen::inRange<std::int64_t>(0, 1'000'000))),
      rc::gen::set(&Send::len, rc::gen::inRange<std::size_t>(14, 1515)),
      rc::gen::set(&Send::fill, rc::gen::arbitrary<std::uint8_t>())));

  WorldConfig world_config;
  world_config.seed = seed;
  auto world = World::create(world_config).value();
  LinkConfig config;
  config.name = "l";
  config.a.name = "a";
  config.b.name = "b";
  config.a_to_b = faults;
  Link& link = *world->add_link(config).value();
  auto collector = std::make_unique<Collector>();
  Collector* sink = collector.get();
  RC_ASSERT(world->add_host("sink", link.b(), std::move(collector)).ok());

  // The model the link direction must follow, seeded as the world seeds it.
  FaultModel model(faults, world->stream_seed("link/l/a_to_b"));
  struct Expected {
    Arrival arrival;
    std::size_t order;
  };
  std::vector<Expected> expected;
  Instant t = Instant::epoch();
  for (const Send& s : sends) {
    t += Duration::nanoseconds(s.gap_ns);
    (void)world->run_until(t);
    ByteVector frame(s.len, std::byte{s.fill});
    store_be16(frame, 12, static_cast<std::uint16_t>(expected.size()));
    const auto taken = link.a().transmit(as_bytes(frame));
    RC_ASSERT(taken.ok());
    RC_ASSERT(*taken);
    const Verdict verdict = model.offer(t, frame.size());
    for (std::size_t c = 0; c < verdict.count; ++c) {
      const Delivery& d = verdict.deliveries[c];
      ByteVector copy = frame;
      for (std::size_t f = 0; f < d.flips; ++f) {
        copy[d.flipped_bits[f] / 8] ^= static_cast<std::byte>(0x80u >> (d.flipped_bits[f] % 8));
      }
      expected.push_back(Expected{Arrival{copy, d.at}, expected.size()});
    }
  }
  const RunResult run = world->run_until(Instant::never());
  RC_ASSERT(run.stop == RunStop::Idle);
  std::stable_sort(expected.begin(), expected.end(),
                   [](const Expected& x, const Expected& y) { return x.arrival.at < y.arrival.at; });

  RC_ASSERT(sink->arrivals.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    RC_ASSERT(sink->arrivals[i].at == expected[i].arrival.at);
    RC_ASSERT(sink->arrivals[i].frame == expected[i].arrival.frame);
  }
  RC_ASSERT(link.a_to_b().counters() == model.counters());
}

}  // namespace
}  // namespace tapstack::sim
