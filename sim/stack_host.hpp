#pragma once
// StackHost: a simulated host running the real IPv4 stack (tapstack::Stack)
// on a sim Port, driven by the world through the sim::Host contract. Tests
// program it through hooks instead of subclassing:
//
//   app     runs at every poll before the stack's own timers (and so after
//           every frame the host received): read sockets, send replies, start
//           pings. It returns the instant it wants to run again
//           (Instant::never(): only when something arrives).
//   on_receive   sees every frame the host received, before the stack does
//                (for tests that count or inspect traffic).
//
// The stack's MAC is the port's unless the configuration names one, and its
// seed is the host's (HostEnv::seed), so runs are reproducible per host name.

#include <functional>
#include <string>
#include <string_view>

#include "sim/host.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/stack.hpp"

namespace tapstack::sim {

class StackHost final : public Host {
 public:
  using App = std::function<Instant(Stack& stack, Instant now)>;
  using FrameHook = std::function<void(Bytes frame, Instant now)>;

  // `config` must validate (std::invalid_argument otherwise, from Stack). A zero
  // config.interface.mac is replaced by the port's address.
  StackHost(HostEnv env, StackConfig config);

  void receive(Bytes frame, Instant now) override;
  Instant poll(Instant now) override;

  Stack& stack() { return stack_; }
  const Stack& stack() const { return stack_; }
  const std::string& name() const { return name_; }

  void set_app(App app) { app_ = std::move(app); }
  void set_on_receive(FrameHook hook) { on_receive_ = std::move(hook); }

 private:
  static StackConfig with_device_mac(StackConfig config, const link::Device& device);

  std::string name_;
  Stack stack_;
  App app_;
  FrameHook on_receive_;
};

}  // namespace tapstack::sim
