#include "sim/stack_host.hpp"

#include <algorithm>
#include <utility>

namespace tapstack::sim {

StackConfig StackHost::with_device_mac(StackConfig config, const link::Device& device) {
  if (config.interface.mac == wire::MacAddress{}) {
    config.interface.mac = device.mac();
  }
  return config;
}

StackHost::StackHost(HostEnv env, StackConfig config)
    : name_(env.name), stack_(with_device_mac(std::move(config), env.device), env.device, env.seed) {}

void StackHost::receive(Bytes frame, Instant now) {
  if (on_receive_) {
    on_receive_(frame, now);
  }
  stack_.receive(frame, now);
}

Instant StackHost::poll(Instant now) {
  Instant next = Instant::never();
  if (app_) {
    next = app_(stack_, now);
  }
  return std::min(next, stack_.poll(now));
}

}  // namespace tapstack::sim
