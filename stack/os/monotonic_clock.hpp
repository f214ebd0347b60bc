#pragma once
// The live driver's clock: CLOCK_MONOTONIC as an Instant. The stack never
// reads a clock (DESIGN.md, "the one idea"); the live event loop reads this
// one and passes the Instants in, as the simulator passes its virtual time.
//
// CLOCK_MONOTONIC never jumps (NTP steps, `date -s`), so timers the stack
// derives from it fire after the intended interval whatever the wall clock
// does. Its epoch is unspecified (boot, on Linux), which is fine for timers
// but not for pcap timestamps people read as dates: wall_offset() gives the
// distance to the wall clock, taken once, so a capture shows real dates while
// staying monotonic within a run.

#include "stack/base/time.hpp"

namespace tapstack::os {

class MonotonicClock {
 public:
  // Reads CLOCK_MONOTONIC. Cannot fail on Linux for this clock id (clock_gettime(2)); a failure
  // would be a broken system and aborts.
  Instant now() const;

  // CLOCK_REALTIME minus CLOCK_MONOTONIC at the moment of the call: add it to an Instant from
  // now() to get nanoseconds since the Unix epoch (for pcap timestamps).
  static Duration wall_offset();
};

// Milliseconds to wait from `now` until `deadline`, for epoll_wait(2): rounded up (waking a
// little late is harmless, waking early would spin), 0 when the deadline has passed, -1
// ("forever") for Instant::never(), and at most `cap_ms` otherwise.
int timeout_ms(Instant now, Instant deadline, int cap_ms);

}  // namespace tapstack::os
