// Properties of the simulator's scheduler over random schedules, including
// events scheduled from inside events (some in the past, some at the same
// instant): events fire in non-decreasing time, events at one instant fire in
// insertion order, and every event fires exactly once.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "sim/scheduler.hpp"

namespace tapstack::sim {
namespace {

constexpr std::size_t kEventsMax = 600;

struct Fired {
  std::uint64_t id;
  Instant at;
};

// Schedules events and records their firing. Event `id` spawns the children
// listed in spawns[id] (offsets from its own instant, in ns) when it fires.
class Harness final : public EventTarget {
 public:
  Harness(Scheduler& scheduler, std::vector<std::vector<std::int64_t>> spawns)
      : scheduler_(scheduler), spawns_(std::move(spawns)) {}

  // Schedules a new event; alternates typed events and callbacks.
  void schedule(Instant at) {
    if (expected_at_.size() >= kEventsMax) {
      return;
    }
    const std::uint64_t id = expected_at_.size();
    expected_at_.push_back(std::max(at, scheduler_.now()));  // the past runs now
    if (id % 2 == 0) {
      scheduler_.schedule_at(at, *this, id);
    } else {
      scheduler_.schedule_at(at, [this, id](Instant now) { fire(now, id); });
    }
  }
  void on_event(Instant now, std::uint64_t token) override { fire(now, token); }

  std::vector<Fired> fired;
  std::vector<Instant> expected_at_;  // by id: the instant it must fire at

 private:
  void fire(Instant now, std::uint64_t id) {
    fired.push_back(Fired{id, now});
    if (id < spawns_.size()) {
      for (const std::int64_t offset : spawns_[id]) {
        schedule(now + Duration::nanoseconds(offset));
      }
    }
  }
  Scheduler& scheduler_;
  std::vector<std::vector<std::int64_t>> spawns_;
};

RC_GTEST_PROP(SchedulerProp, FiresEveryEventOnceInTimeThenInsertionOrder, ()) {
  // Small ranges so that equal instants (ties) are common.
  const auto initial = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 30));
  const auto spawns = *rc::gen::container<std::vector<std::vector<std::int64_t>>>(
      rc::gen::resize(3, rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(-10, 30))));
  const auto limits = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 200));

  Scheduler scheduler;
  Harness harness(scheduler, spawns);
  for (const std::int64_t t : initial) {
    harness.schedule(Instant::from_ns(t));
  }
  // Run in chunks up to random limits, then to the end.
  std::vector<std::int64_t> sorted_limits = limits;
  std::sort(sorted_limits.begin(), sorted_limits.end());
  for (const std::int64_t limit : sorted_limits) {
    const std::size_t before = harness.fired.size();
    (void)scheduler.run_until(Instant::from_ns(limit), kEventsMax * 4);
    for (std::size_t i = before; i < harness.fired.size(); ++i) {
      RC_ASSERT(harness.fired[i].at <= Instant::from_ns(limit));
    }
    RC_ASSERT(scheduler.next_at() > Instant::from_ns(limit));
  }
  (void)scheduler.run_until(Instant::never(), kEventsMax * 4);

  // Nothing lost, nothing run twice.
  RC_ASSERT(scheduler.pending() == 0u);
  RC_ASSERT(harness.fired.size() == harness.expected_at_.size());
  std::vector<bool> seen(harness.expected_at_.size(), false);
  for (const Fired& f : harness.fired) {
    RC_ASSERT(f.id < seen.size());
    RC_ASSERT(!seen[f.id]);
    seen[f.id] = true;
    RC_ASSERT(f.at == harness.expected_at_[f.id]);
  }
  // Non-decreasing time; ties in insertion (id) order.
  for (std::size_t i = 1; i < harness.fired.size(); ++i) {
    const Fired& a = harness.fired[i - 1];
    const Fired& b = harness.fired[i];
    RC_ASSERT(a.at <= b.at);
    if (a.at == b.at) {
      RC_ASSERT(a.id < b.id);
    }
  }
  RC_ASSERT(scheduler.events_run() == harness.fired.size());
}

RC_GTEST_PROP(SchedulerProp, TheClockNeverGoesBackwards, ()) {
  const auto times = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 1'000'000));
  Scheduler scheduler;
  Instant last = scheduler.now();
  bool monotonic = true;
  for (const std::int64_t t : times) {
    scheduler.schedule_at(Instant::from_ns(t), [&](Instant now) {
      monotonic = monotonic && now >= last && now == scheduler.now();
      last = now;
    });
  }
  (void)scheduler.run_until(Instant::never(), times.size() + 1);
  RC_ASSERT(monotonic);
  RC_ASSERT(scheduler.pending() == 0u);
}

}  // namespace
}  // namespace tapstack::sim
