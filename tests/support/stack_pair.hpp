#pragma once
// StackPair: two Stacks wired back to back through QueueDevices, stepped by
// hand in virtual time, for TCP tests that want every frame in their hands
// (no sim faults). Frames move in both directions on each step(); time moves
// only when nothing is in flight, to the earliest deadline (bounded).

#include <functional>
#include <memory>
#include <optional>

#include "stack/link/device.hpp"
#include "stack/stack.hpp"

namespace test_support {

using tapstack::Duration;
using tapstack::Instant;

inline tapstack::StackConfig pair_config(std::uint8_t last_octet, std::size_t mtu = 1500) {
  tapstack::StackConfig config;
  config.interface.mac = tapstack::wire::MacAddress{{0x02, 0, 0, 0, 0, last_octet}};
  config.interface.address = tapstack::wire::Ipv4Address::from_octets(10, 0, 0, last_octet);
  config.interface.prefix_len = 24;
  config.interface.mtu = mtu;
  return config;
}

class StackPair {
 public:
  // An optional filter sees every frame (from a to b when a_to_b) and may drop it (false).
  using Filter = std::function<bool(tapstack::Bytes frame, bool a_to_b)>;

  explicit StackPair(tapstack::StackConfig a_config = pair_config(1), tapstack::StackConfig b_config = pair_config(2))
      : device_a_(device_config(a_config)),
        device_b_(device_config(b_config)),
        a_(std::make_unique<tapstack::Stack>(a_config, device_a_, 1)),
        b_(std::make_unique<tapstack::Stack>(b_config, device_b_, 2)) {}

  tapstack::Stack& a() { return *a_; }
  tapstack::Stack& b() { return *b_; }
  Instant now() const { return now_; }
  void set_filter(Filter filter) { filter_ = std::move(filter); }
  std::uint64_t frames_moved() const { return frames_moved_; }

  // Delivers every frame in flight (both ways, repeatedly) and polls; returns true if any moved.
  bool settle() {
    bool moved_any = false;
    for (int round = 0; round < 100000; ++round) {
      a_->poll(now_);
      b_->poll(now_);
      const bool moved = move(device_a_, *b_, true) | move(device_b_, *a_, false);
      moved_any |= moved;
      if (!moved) {
        break;
      }
    }
    return moved_any;
  }

  // Runs until `done` holds or virtual time passes `limit` from now: settle, then jump to the next deadline.
  bool run_until(const std::function<bool()>& done, Duration limit = Duration::seconds(600),
                 const std::function<void()>& each_step = {}) {
    const Instant end = now_ + limit;
    for (int steps = 0; steps < 10'000'000; ++steps) {
      settle();
      if (each_step) {
        each_step();
        settle();
      }
      if (done()) {
        return true;
      }
      const Instant next = std::min(a_->poll(now_), b_->poll(now_));
      if (next > end || next == Instant::never()) {
        if (each_step && now_ + Duration::milliseconds(1) <= end) {
          now_ = now_ + Duration::milliseconds(1);  // an app may be waiting on itself
          continue;
        }
        return done();
      }
      now_ = std::max(next, now_ + Duration::nanoseconds(1));
    }
    return done();
  }

  void advance(Duration d) { now_ = now_ + d; }

 private:
  static tapstack::link::QueueDeviceConfig device_config(const tapstack::StackConfig& c) {
    tapstack::link::QueueDeviceConfig d;
    d.mac = c.interface.mac;
    d.mtu = c.interface.mtu;
    d.tx_queue_frames = 1 << 16;
    d.rx_queue_frames = 1 << 16;
    return d;
  }

  bool move(tapstack::link::QueueDevice& from, tapstack::Stack& to, bool a_to_b) {
    bool moved = false;
    while (auto frame = from.pop_transmitted()) {
      moved = true;
      ++frames_moved_;
      if (filter_ && !filter_(tapstack::as_bytes(*frame), a_to_b)) {
        continue;
      }
      to.receive(tapstack::as_bytes(*frame), now_);
    }
    return moved;
  }

  tapstack::link::QueueDevice device_a_;
  tapstack::link::QueueDevice device_b_;
  std::unique_ptr<tapstack::Stack> a_;
  std::unique_ptr<tapstack::Stack> b_;
  Instant now_ = Instant::epoch();
  Filter filter_;
  std::uint64_t frames_moved_ = 0;
};

}  // namespace test_support
