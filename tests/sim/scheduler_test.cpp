#include "sim/scheduler.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#include "tests/support/allocation_counter.hpp"


namespace tapstack::sim {
namespace {

Instant at_ms(std::int64_t ms) { return Instant::epoch() + Duration::milliseconds(ms); }

// Records every event it receives: (instant, token).
class Recorder final : public EventTarget {
 public:
  void on_event(Instant now, std::uint64_t token) override { seen.emplace_back(now, token); }
  std::vector<std::pair<Instant, std::uint64_t>> seen;
};

TEST(Scheduler, StartsIdleAtItsStartInstant) {
  Scheduler scheduler(at_ms(7));
  EXPECT_EQ(scheduler.now(), at_ms(7));
  EXPECT_EQ(scheduler.pending(), 0u);
  EXPECT_EQ(scheduler.next_at(), Instant::never());
  EXPECT_FALSE(scheduler.step());
  EXPECT_EQ(scheduler.events_run(), 0u);
}

TEST(Scheduler, RunsEventsInTimeOrderAndJumpsOverIdleTime) {
  Scheduler scheduler;
  Recorder target;
  scheduler.schedule_at(at_ms(30), target, 3);
  scheduler.schedule_at(at_ms(10), target, 1);
  scheduler.schedule_at(at_ms(20), target, 2);
  EXPECT_EQ(scheduler.next_at(), at_ms(10));
  ASSERT_TRUE(scheduler.step());
  EXPECT_EQ(scheduler.now(), at_ms(10));
  ASSERT_TRUE(scheduler.step());
  EXPECT_EQ(scheduler.now(), at_ms(20));
  ASSERT_TRUE(scheduler.step());
  EXPECT_EQ(scheduler.now(), at_ms(30));
  EXPECT_FALSE(scheduler.step());
  const std::vector<std::pair<Instant, std::uint64_t>> expected{{at_ms(10), 1}, {at_ms(20), 2}, {at_ms(30), 3}};
  EXPECT_EQ(target.seen, expected);
  EXPECT_EQ(scheduler.events_run(), 3u);
}

TEST(Scheduler, EventsAtTheSameInstantRunInInsertionOrder) {
  Scheduler scheduler;
  Recorder target;
  for (std::uint64_t token = 0; token < 100; ++token) {
    scheduler.schedule_at(at_ms(5), target, token);
  }
  scheduler.schedule_at(at_ms(4), target, 1000);
  (void)scheduler.run_until(Instant::never(), 1000);
  ASSERT_EQ(target.seen.size(), 101u);
  EXPECT_EQ(target.seen[0].second, 1000u);
  for (std::uint64_t token = 0; token < 100; ++token) {
    EXPECT_EQ(target.seen[token + 1].second, token);
  }
}

TEST(Scheduler, AnInstantInThePastRunsNowAfterWhatIsAlreadyDue) {
  Scheduler scheduler(at_ms(100));
  Recorder target;
  scheduler.schedule_at(at_ms(100), target, 1);
  scheduler.schedule_at(at_ms(50), target, 2);  // in the past: clamped to now, after token 1
  scheduler.schedule_after(Duration::milliseconds(-5), target, 3);
  (void)scheduler.run_until(Instant::never(), 10);
  const std::vector<std::pair<Instant, std::uint64_t>> expected{
      {at_ms(100), 1}, {at_ms(100), 2}, {at_ms(100), 3}};
  EXPECT_EQ(target.seen, expected);
}

TEST(Scheduler, NeverSchedulesNothing) {
  Scheduler scheduler;
  Recorder target;
  scheduler.schedule_at(Instant::never(), target, 1);
  scheduler.schedule_after(Duration::max(), target, 2);  // saturates to never
  scheduler.schedule_at(Instant::never(), [](Instant) { FAIL() << "ran a callback scheduled for never"; });
  EXPECT_EQ(scheduler.pending(), 0u);
}

TEST(Scheduler, RunUntilStopsAtTheLimitAndAdvancesTheClockToIt) {
  Scheduler scheduler;
  Recorder target;
  scheduler.schedule_at(at_ms(10), target, 1);
  scheduler.schedule_at(at_ms(20), target, 2);  // exactly at the limit: runs
  scheduler.schedule_at(at_ms(21), target, 3);
  const SchedulerRun run = scheduler.run_until(at_ms(20), 100);
  EXPECT_EQ(run.stop, SchedulerStop::Drained);
  EXPECT_EQ(run.events, 2u);
  EXPECT_EQ(scheduler.now(), at_ms(20));
  EXPECT_EQ(scheduler.pending(), 1u);
  // Nothing due before 50: the clock still moves to the limit.
  (void)scheduler.run_until(at_ms(15), 100);
  EXPECT_EQ(scheduler.now(), at_ms(20));  // never backwards
  EXPECT_EQ(scheduler.run_until(at_ms(50), 100).events, 1u);
  EXPECT_EQ(scheduler.now(), at_ms(50));
}

TEST(Scheduler, RunUntilNeverLeavesTheClockAtTheLastEvent) {
  Scheduler scheduler;
  Recorder target;
  scheduler.schedule_at(at_ms(10), target, 1);
  (void)scheduler.run_until(Instant::never(), 100);
  EXPECT_EQ(scheduler.now(), at_ms(10));
}

TEST(Scheduler, TheEventBudgetBoundsARun) {
  Scheduler scheduler;
  Recorder target;
  for (std::uint64_t token = 0; token < 10; ++token) {
    scheduler.schedule_at(at_ms(1), target, token);
  }
  const SchedulerRun run = scheduler.run_until(at_ms(5), 4);
  EXPECT_EQ(run.stop, SchedulerStop::EventBudget);
  EXPECT_EQ(run.events, 4u);
  EXPECT_EQ(scheduler.now(), at_ms(1));  // not advanced: events are still due
  EXPECT_EQ(scheduler.pending(), 6u);
  EXPECT_EQ(scheduler.run_until(at_ms(5), 100).events, 6u);
  EXPECT_EQ(target.seen.size(), 10u);
}

TEST(Scheduler, EventsMayScheduleEventsIncludingAtTheSameInstant) {
  Scheduler scheduler;
  std::vector<int> order;
  scheduler.schedule_at(at_ms(1), [&](Instant now) {
    order.push_back(1);
    scheduler.schedule_at(now, [&](Instant) { order.push_back(3); });
    scheduler.schedule_at(now + Duration::milliseconds(1), [&](Instant) { order.push_back(4); });
  });
  scheduler.schedule_at(at_ms(1), [&](Instant) { order.push_back(2); });
  (void)scheduler.run_until(Instant::never(), 100);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(scheduler.now(), at_ms(2));
}

TEST(Scheduler, CallbacksAndTypedEventsShareOneOrder) {
  Scheduler scheduler;
  Recorder target;
  std::vector<std::uint64_t> order;
  scheduler.schedule_at(at_ms(1), target, 1);
  scheduler.schedule_at(at_ms(1), [&](Instant) { order.push_back(target.seen.size()); });
  scheduler.schedule_at(at_ms(1), target, 2);
  (void)scheduler.run_until(Instant::never(), 100);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{1}));  // ran after token 1, before token 2
  EXPECT_EQ(target.seen.size(), 2u);
}

TEST(Scheduler, TracksThePeakOfPendingEvents) {
  Scheduler scheduler;
  Recorder target;
  for (std::uint64_t token = 0; token < 5; ++token) {
    scheduler.schedule_at(at_ms(static_cast<std::int64_t>(token)), target, token);
  }
  (void)scheduler.run_until(Instant::never(), 100);
  scheduler.schedule_at(at_ms(100), target, 9);
  EXPECT_EQ(scheduler.pending_peak(), 5u);
}

// A target that keeps itself scheduled: each event schedules the next, a
// pseudo-random delay later, as a link delivering a stream of frames does.
class Chain final : public EventTarget {
 public:
  explicit Chain(Scheduler& scheduler) : scheduler_(scheduler) {}
  void on_event(Instant now, std::uint64_t token) override {
    runs++;
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    scheduler_.schedule_at(now + Duration::nanoseconds(static_cast<std::int64_t>(state_ >> 54)), *this, token + 1);
  }
  std::uint64_t runs = 0;

 private:
  Scheduler& scheduler_;
  std::uint64_t state_ = 1;
};

TEST(Scheduler, TypedEventsAllocateNothingInSteadyState) {
  Scheduler scheduler;
  Chain chain(scheduler);
  for (std::uint64_t i = 0; i < 256; ++i) {
    scheduler.schedule_at(at_ms(0), chain, i * 1'000'000);
  }
  (void)scheduler.run_until(at_ms(1), 100'000);  // warm-up: the heap reaches its size
  SchedulerRun run;
  const std::uint64_t allocations =
      test_support::allocations_during([&] { run = scheduler.run_until(at_ms(1000), 200'000); });
  EXPECT_EQ(run.events, 200'000u);
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace tapstack::sim
