#pragma once
// App: an application on top of the stack's socket API (DESIGN.md: "apps/:
// echo, discard, chargen, http, netcat: users of the socket API only"). Apps
// include stack/stack.hpp and nothing below it; they never see a frame.
//
// Like the stack, an app has no clock and no I/O of its own: whoever runs the
// stack (the live event loop, the simulator, replay) drives it through
// AppHost (apps/app_host.hpp), which polls every app after the stack has
// taken in frames, and again at the deadline the app asked for.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/stack.hpp"

namespace tapstack::apps {

class App {
 public:
  App() = default;
  App(const App&) = delete;
  App& operator=(const App&) = delete;
  virtual ~App() = default;

  // A short name without spaces, used as the counter prefix: "udp_echo_7".
  virtual std::string name() const = 0;
  // What it does, for a start-up line: "UDP echo (RFC 862) on port 7".
  virtual std::string description() const = 0;

  // Opens the app's sockets on `stack`. Called once, before the first poll; an error (e.g.
  // "UDP port 7: address in use") means the app did not start and holds nothing.
  virtual Result<Unit, std::string> start(Stack& stack) = 0;
  // Does the work ready at `now`: takes received data, sends answers, retries. Returns when it
  // wants to be polled again even without traffic (at or before `now`: right away, because
  // work is left; Instant::never(): only after traffic).
  virtual Instant poll(Stack& stack, Instant now) = 0;
  // Closes the app's sockets. After stop(), only counters are read.
  virtual void stop(Stack& stack) = 0;

  // Calls f(name, value) for every counter of the app, in a stable order.
  virtual void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const = 0;
};

}  // namespace tapstack::apps
