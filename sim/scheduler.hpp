#pragma once
// The simulator's virtual clock and discrete-event queue.
//
// Time only moves when an event runs: the clock jumps straight to the next
// event, so idle time costs nothing. Events at the same instant run in the
// order they were scheduled (a sequence number breaks ties), which is what
// makes a run repeatable to the byte.
//
// The hot path is allocation-free once warm: an event is a typed record
// (target pointer + 64-bit token) in a binary min-heap whose vector keeps its
// capacity. A target is any EventTarget (a link direction delivering a frame,
// a host's poll); the token tells it which of its events fired. For tests
// there is a convenience overload taking a std::function, stored in a reused
// slot table.
//
// Every run is bounded by an event budget: a livelocked model stops the run
// instead of hanging the test.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "stack/base/time.hpp"

namespace tapstack::sim {

// Something that receives scheduled events. The scheduler does not own
// targets: a target must outlive its pending events.
class EventTarget {
 public:
  // Runs the event scheduled with `token`; `now` is the event's instant.
  virtual void on_event(Instant now, std::uint64_t token) = 0;

 protected:
  EventTarget() = default;
  EventTarget(const EventTarget&) = default;
  EventTarget& operator=(const EventTarget&) = default;
  ~EventTarget() = default;
};

// Why Scheduler::run_until returned.
enum class SchedulerStop : std::uint8_t {
  Drained,      // no event left at or before the limit; the clock was advanced to the limit
  EventBudget,  // events_max events ran and more are due at or before the limit
};

struct SchedulerRun {
  SchedulerStop stop = SchedulerStop::Drained;
  std::uint64_t events = 0;  // events run by this call
};

class Scheduler {
 public:
  using Callback = std::function<void(Instant now)>;

  // A scheduler whose clock starts at `start`.
  explicit Scheduler(Instant start = Instant::epoch());
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler() = default;

  // The virtual clock: the instant of the event running, or of the last one run.
  Instant now() const { return now_; }
  // Events waiting.
  std::size_t pending() const { return heap_.size(); }
  // The instant of the earliest waiting event; Instant::never() when none.
  Instant next_at() const { return heap_.empty() ? Instant::never() : heap_.front().at; }
  // Events run since construction.
  std::uint64_t events_run() const { return events_run_; }
  // Largest number of events that were waiting at once.
  std::size_t pending_peak() const { return pending_peak_; }

  // Schedules target.on_event(at, token). An instant before now() runs at
  // now(), after the events already scheduled for now(); Instant::never()
  // schedules nothing (nothing is due).
  void schedule_at(Instant at, EventTarget& target, std::uint64_t token);
  // Same, `delay` after now() (a negative delay means now()).
  void schedule_after(Duration delay, EventTarget& target, std::uint64_t token);
  // Reserves a place in the insertion order now, for an event scheduled
  // later with schedule_reserved(): it then runs exactly as if it had been
  // scheduled at the time of the reservation. A link direction uses this to
  // keep its in-order deliveries in its own FIFO, with only the head in the
  // queue, without changing the order of anything.
  std::uint64_t reserve_seq() { return next_seq_++; }
  // Schedules target.on_event(at, token) in the place `seq` (from
  // reserve_seq(), used once). `at` before now() runs at now().
  void schedule_reserved(Instant at, std::uint64_t seq, EventTarget& target, std::uint64_t token);
  // Convenience for tests and set-up code: runs fn(now) at `at` (same rules).
  // May allocate (std::function); the frame path uses the typed overload.
  void schedule_at(Instant at, Callback fn);

  // Runs the earliest event, advancing the clock to it. False when none waits.
  bool step();
  // Runs every event due at or before `limit` (events they schedule included),
  // at most `events_max` of them. When none is left due, the clock is
  // advanced to `limit` (unless limit is Instant::never()).
  SchedulerRun run_until(Instant limit, std::uint64_t events_max);

  // Pre-sizes the queue for `events` waiting events.
  void reserve(std::size_t events) { heap_.reserve(events); }

 private:
  struct Entry {
    Instant at;
    std::uint64_t seq;  // insertion order: breaks ties between equal instants
    EventTarget* target;
    std::uint64_t token;
  };
  static bool earlier(const Entry& x, const Entry& y) {
    return x.at < y.at || (x.at == y.at && x.seq < y.seq);
  }
  // Runs the std::function events stored in callbacks_.
  class CallbackTarget final : public EventTarget {
   public:
    explicit CallbackTarget(Scheduler& owner) : owner_(owner) {}
    void on_event(Instant now, std::uint64_t token) override;

   private:
    Scheduler& owner_;
  };

  void push(const Entry& entry);
  Entry pop();

  Instant now_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t events_run_ = 0;
  std::size_t pending_peak_ = 0;
  std::vector<Entry> heap_;  // binary min-heap ordered by earlier()
  CallbackTarget callback_target_{*this};
  std::vector<Callback> callbacks_;            // slots; the token is the index
  std::vector<std::uint32_t> free_callbacks_;  // free slot indices
};

}  // namespace tapstack::sim
