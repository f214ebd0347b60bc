#pragma once
// The driving contract between the simulator and whatever runs on a
// simulated host (a test host now, the whole stack later).
//
// A host is a state machine with no clock and no I/O of its own (DESIGN.md,
// "the one idea"). The world drives it through exactly two calls:
//
//   host.receive(frame, now)        a frame arrived on the host's port
//   Instant next = host.poll(now)   run what is due, transmit what is queued;
//                                   returns when to be polled again
//                                   (Instant::never(): nothing is due)
//
// and the host transmits through the link::Device it was given (a sim Port).
// When a frame is delivered the world calls receive() then poll() at the
// delivery instant; when the deadline poll() returned comes, it calls poll()
// alone. Only the latest deadline counts: each poll() result replaces the one
// before. A host is also polled once when it is added, so it can start.
//
// A host may transmit from inside receive() and poll(); the frame leaves at
// `now`. The frame passed to receive() is only valid during the call.

#include <cstdint>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/link/device.hpp"

namespace tapstack::sim {

class Host {
 public:
  Host() = default;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;
  virtual ~Host() = default;

  // A frame arrived (Ethernet header first, no FCS).
  virtual void receive(Bytes frame, Instant now) = 0;
  // Runs what is due at `now`; returns the next instant it wants to be polled
  // at (an instant at or before `now` means "again, right away"), or
  // Instant::never().
  virtual Instant poll(Instant now) = 0;
};

// What the world hands a host it constructs (World::emplace_host): the device
// to transmit through, the host's own random seed (derived from the master
// seed and the host's name, so adding another host does not change it), and
// its name (a view valid during construction only: copy it to keep it).
struct HostEnv {
  link::Device& device;
  std::uint64_t seed;
  std::string_view name;
};

}  // namespace tapstack::sim
