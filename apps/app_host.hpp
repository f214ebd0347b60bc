#pragma once
// AppHost: a Stack and the Apps running on it, driven as one host through the
// two calls of DESIGN.md. The live event loop (tools/live.cpp), replay and the
// simulator all run services through it, so they behave alike.
//
//   receive(frame, now)  the stack takes the frame (apps are not called: they
//                        run at the next poll, after a whole batch, so an app
//                        never runs inside the stack's input processing)
//   poll(now)            every app, in the order added, then the stack (which
//                        flushes what the apps queued and runs its timers);
//                        returns the earliest deadline of all of them

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/app.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/stack.hpp"

namespace tapstack::apps {

class AppHost {
 public:
  // `stack` must outlive the host.
  explicit AppHost(Stack& stack) : stack_(stack) {}
  AppHost(const AppHost&) = delete;
  AppHost& operator=(const AppHost&) = delete;
  ~AppHost() = default;

  // Adds an app (not started yet). Call before start().
  void add(std::unique_ptr<App> app);
  // Starts every app in order. On the first failure stops the ones already started and
  // returns "<app description>: <reason>".
  Result<Unit, std::string> start();
  // Stops every started app (idempotent).
  void stop();

  void receive(Bytes frame, Instant now) { stack_.receive(frame, now); }
  Instant poll(Instant now);
  // Polls the started apps only (not the stack), for a driver that polls the stack itself, e.g. a
  // sim::StackHost app hook. Returns the earliest deadline of the apps.
  Instant poll_apps(Instant now);

  Stack& stack() { return stack_; }
  const Stack& stack() const { return stack_; }
  std::size_t size() const { return apps_.size(); }
  const App& app(std::size_t i) const { return *apps_.at(i); }

  // f(name, value) for every app counter, named "app.<app name>.<counter>", apps in order.
  void visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const;

 private:
  Stack& stack_;
  std::vector<std::unique_ptr<App>> apps_;
  std::size_t started_ = 0;  // apps_[0, started_) are running
};

}  // namespace tapstack::apps
