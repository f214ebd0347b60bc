#pragma once
// EventLoop: the live driver (DESIGN.md: "live | TapDevice | monotonic clock |
// epoll on the TAP fd"). It owns no stack: it waits on the device's file
// descriptor with the host's next deadline as the timeout, drains the device
// in FrameBatches, hands each frame to the host with the current Instant, and
// polls the host after every wake. SIGINT and SIGTERM arrive through a
// signalfd, so they end the loop between two steps, never inside one: the
// caller then flushes its capture and prints its counters.
//
// One wake, in order:
//   1. epoll_wait(device fd, signalfd; timeout = min(host deadline, next tick))
//   2. read the clock once: `now`
//   3. if the device is readable: receive() up to batches_per_wake_max batches
//      (stopping early at a batch that is not full: the device is drained),
//      host.receive(frame, now) for each frame
//   4. deadline = host.poll(now)
//   5. on_tick(now) if its interval has passed (e.g. --stats)
//   6. a stop signal seen in 1 (or request_stop()) ends the loop here, after
//      the frames that were already waiting have been handled
// The epoll descriptor is level-triggered, so frames left in the device after
// the batch bound wake the next iteration immediately; a flood cannot starve
// timers or signals.
//
// Other descriptors (standard input and output for `live --connect`) can be
// watched too (watch()): when one is ready the loop wakes and polls the host,
// which does the reading or writing itself. The host changes the interest as
// it goes (readable only while it has room for input, writable only while
// output waits), so a level-triggered descriptor it cannot serve yet does not
// spin the loop.
//
// Linux only, like everything in stack/os/; the headers are included in the
// .cpp. Not thread-safe: create and run it on one thread (the signal mask it
// changes is that thread's).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/link/device.hpp"
#include "stack/os/monotonic_clock.hpp"

namespace tapstack::os {

// What the loop drives, with the two calls of DESIGN.md. In `tapstack live` this is the stack
// with its applications (tools/live.cpp); tests can drive anything.
class LoopHost {
 public:
  LoopHost() = default;
  LoopHost(const LoopHost&) = delete;
  LoopHost& operator=(const LoopHost&) = delete;
  virtual ~LoopHost() = default;

  // A frame arrived (valid during the call only).
  virtual void receive(Bytes frame, Instant now) = 0;
  // Runs what is due; returns when to be polled again (Instant::never(): only on traffic).
  virtual Instant poll(Instant now) = 0;
};

struct EventLoopConfig {
  // Frames per FrameBatch (the device's rx_buffer_len() sets the slot size).
  std::size_t batch_frames = link::FrameBatch::kDefaultCapacity;
  // Batches read per wake before the host is polled and signals are looked at again: bounds
  // one wake to batch_frames * batches_per_wake_max frames (1024 by default).
  std::size_t batches_per_wake_max = 16;
  // Interval of on_tick (e.g. periodic --stats); Duration::zero(): no ticks.
  Duration tick_interval = Duration::zero();
  // Called every tick_interval (not before the first interval has passed).
  std::function<void(Instant)> on_tick;
};

// What the loop did, for --stats and tests.
struct EventLoopCounters {
  std::uint64_t wakes = 0;             // epoll_wait returns (events or timeout)
  std::uint64_t timeouts = 0;          // wakes with no event: a deadline or tick came
  std::uint64_t batches = 0;           // device receive() calls that returned frames
  std::uint64_t frames = 0;            // frames handed to the host
  std::uint64_t batch_limit_hits = 0;  // wakes that stopped at batches_per_wake_max with frames left
  std::uint64_t polls = 0;             // host.poll() calls

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"wakes"}, wakes);
    f(std::string_view{"timeouts"}, timeouts);
    f(std::string_view{"batches"}, batches);
    f(std::string_view{"frames"}, frames);
    f(std::string_view{"batch_limit_hits"}, batch_limit_hits);
    f(std::string_view{"polls"}, polls);
  }
};

// Why run() returned normally.
struct LoopStop {
  int signal = 0;  // SIGINT or SIGTERM; 0 after request_stop()
};

class EventLoop {
 public:
  // Creates the epoll instance, blocks SIGINT and SIGTERM on the calling thread and routes them
  // to a signalfd (so they are read, not delivered), and watches `device_fd` for input. The
  // previous signal mask is restored on destruction. Errors name the failing call.
  static Result<EventLoop, std::string> create(int device_fd, EventLoopConfig config = {});

  EventLoop(EventLoop&& other) noexcept;
  EventLoop& operator=(EventLoop&& other) = delete;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;
  ~EventLoop();

  // Runs until SIGINT or SIGTERM (or request_stop()). `device` is what frames are read through
  // (the TapDevice itself or a decorator around it, e.g. a PcapRecorder); its file descriptor
  // is the one given to create(). The host is polled once at the start. Fails when the device
  // or epoll fails (the message says which and why); the host is left as it was.
  Result<LoopStop, std::string> run(link::Device& device, LoopHost& host, const MonotonicClock& clock);

  // Makes run() return after the current wake (for a host that is done, e.g. --connect).
  void request_stop() { stop_requested_ = true; }
  // Clears a request_stop(), so that run() can be called again (e.g. to let connections close
  // after the first run was stopped).
  void reset_stop() { stop_requested_ = false; }

  // Wakes the loop when `fd` is readable and/or writable, replacing its previous interest; both
  // false stops watching it. Ok(false) when the descriptor cannot be polled (a regular file or
  // /dev/null: epoll refuses them, and they never block anyway); an error names the failing call.
  Result<bool, std::string> watch(int fd, bool readable, bool writable);

  const EventLoopCounters& counters() const { return counters_; }

 private:
  EventLoop(int epoll_fd, int signal_fd, int device_fd, EventLoopConfig config);

  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  int device_fd_ = -1;
  bool restore_mask_ = false;
  // The thread's signal mask before create(), restored by the destructor (sigset_t, kept as
  // bytes so this header needs no <signal.h>).
  alignas(8) unsigned char old_mask_[128] = {};
  struct Watch {
    int fd = -1;
    std::uint32_t events = 0;  // EPOLLIN / EPOLLOUT
  };
  EventLoopConfig config_;
  std::vector<Watch> watches_;
  bool stop_requested_ = false;
  EventLoopCounters counters_;
};

}  // namespace tapstack::os
