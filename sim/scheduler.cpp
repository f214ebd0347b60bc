#include "sim/scheduler.hpp"

#include <cstdlib>
#include <utility>

namespace tapstack::sim {

Scheduler::Scheduler(Instant start) : now_(start) {}

void Scheduler::schedule_at(Instant at, EventTarget& target, std::uint64_t token) {
  if (at == Instant::never()) {
    return;
  }
  if (at < now_) {
    at = now_;
  }
  push(Entry{at, next_seq_++, &target, token});
}

void Scheduler::schedule_reserved(Instant at, std::uint64_t seq, EventTarget& target, std::uint64_t token) {
  if (at == Instant::never()) {
    return;
  }
  if (at < now_) {
    at = now_;
  }
  push(Entry{at, seq, &target, token});
}

void Scheduler::schedule_after(Duration delay, EventTarget& target, std::uint64_t token) {
  if (delay < Duration::zero()) {
    delay = Duration::zero();
  }
  // Saturate instead of overflowing into the past.
  const bool overflows = delay > Instant::never() - now_;
  schedule_at(overflows ? Instant::never() : now_ + delay, target, token);
}

void Scheduler::schedule_at(Instant at, Callback fn) {
  if (at == Instant::never() || !fn) {
    return;
  }
  std::uint32_t slot = 0;
  if (free_callbacks_.empty()) {
    slot = static_cast<std::uint32_t>(callbacks_.size());
    callbacks_.push_back(std::move(fn));
  } else {
    slot = free_callbacks_.back();
    free_callbacks_.pop_back();
    callbacks_[slot] = std::move(fn);
  }
  schedule_at(at, callback_target_, slot);
}

void Scheduler::CallbackTarget::on_event(Instant now, std::uint64_t token) {
  // Moved out and the slot freed first: the callback may schedule callbacks.
  Callback fn = std::move(owner_.callbacks_[token]);
  owner_.callbacks_[token] = nullptr;
  owner_.free_callbacks_.push_back(static_cast<std::uint32_t>(token));
  fn(now);
}

bool Scheduler::step() {
  if (heap_.empty()) {
    return false;
  }
  const Entry entry = pop();
  now_ = entry.at;
  events_run_++;
  entry.target->on_event(entry.at, entry.token);
  return true;
}

SchedulerRun Scheduler::run_until(Instant limit, std::uint64_t events_max) {
  SchedulerRun run;
  while (!heap_.empty() && heap_.front().at <= limit) {
    if (run.events == events_max) {
      run.stop = SchedulerStop::EventBudget;
      return run;
    }
    step();
    run.events++;
  }
  if (limit != Instant::never() && limit > now_) {
    now_ = limit;
  }
  run.stop = SchedulerStop::Drained;
  return run;
}

// Binary heap with a moving hole: each level costs one compare and one move.
void Scheduler::push(const Entry& entry) {
  heap_.push_back(entry);
  std::size_t hole = heap_.size() - 1;
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / 2;
    if (!earlier(entry, heap_[parent])) {
      break;
    }
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
  if (heap_.size() > pending_peak_) {
    pending_peak_ = heap_.size();
  }
}

Scheduler::Entry Scheduler::pop() {
  const Entry top = heap_.front();
  const Entry last = heap_.back();
  heap_.pop_back();
  const std::size_t size = heap_.size();
  if (size == 0) {
    return top;
  }
  std::size_t hole = 0;
  for (;;) {
    std::size_t child = 2 * hole + 1;
    if (child >= size) {
      break;
    }
    if (child + 1 < size && earlier(heap_[child + 1], heap_[child])) {
      child++;
    }
    if (!earlier(heap_[child], last)) {
      break;
    }
    heap_[hole] = heap_[child];
    hole = child;
  }
  heap_[hole] = last;
  return top;
}

}  // namespace tapstack::sim
