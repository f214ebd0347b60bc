#include "stack/os/monotonic_clock.hpp"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <limits>

namespace tapstack::os {

namespace {

std::int64_t read_ns(clockid_t id) {
  timespec ts{};
  if (::clock_gettime(id, &ts) != 0) {
    std::abort();
  }
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<std::int64_t>(ts.tv_nsec);
}

}  // namespace

Instant MonotonicClock::now() const { return Instant::from_ns(read_ns(CLOCK_MONOTONIC)); }

Duration MonotonicClock::wall_offset() {
  // Read the monotonic clock on both sides of the wall clock and take the middle, so the
  // offset is off by at most half the (tiny) time between the reads.
  const std::int64_t before = read_ns(CLOCK_MONOTONIC);
  const std::int64_t wall = read_ns(CLOCK_REALTIME);
  const std::int64_t after = read_ns(CLOCK_MONOTONIC);
  return Duration::nanoseconds(wall - (before + (after - before) / 2));
}

int timeout_ms(Instant now, Instant deadline, int cap_ms) {
  if (deadline == Instant::never()) {
    return cap_ms < 0 ? -1 : cap_ms;
  }
  if (deadline <= now) {
    return 0;
  }
  const std::int64_t ns = (deadline - now).ns();
  const std::int64_t ms = ns / 1'000'000 + (ns % 1'000'000 != 0 ? 1 : 0);
  const std::int64_t cap = cap_ms >= 0 ? cap_ms : std::numeric_limits<int>::max();
  return static_cast<int>(std::min(ms, cap));
}

}  // namespace tapstack::os
