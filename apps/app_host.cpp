#include "apps/app_host.hpp"

#include <algorithm>
#include <utility>

namespace tapstack::apps {

void AppHost::add(std::unique_ptr<App> app) { apps_.push_back(std::move(app)); }

Result<Unit, std::string> AppHost::start() {
  while (started_ < apps_.size()) {
    App& app = *apps_[started_];
    auto started = app.start(stack_);
    if (!started.ok()) {
      stop();
      return fail(app.description() + ": " + started.error());
    }
    started_++;
  }
  return Unit{};
}

void AppHost::stop() {
  while (started_ > 0) {
    started_--;
    apps_[started_]->stop(stack_);
  }
}

Instant AppHost::poll_apps(Instant now) {
  Instant next = Instant::never();
  for (std::size_t i = 0; i < started_; ++i) {
    next = std::min(next, apps_[i]->poll(stack_, now));
  }
  return next;
}

Instant AppHost::poll(Instant now) {
  const Instant apps = poll_apps(now);  // first: the stack then flushes what they queued
  return std::min(apps, stack_.poll(now));
}

void AppHost::visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  for (const auto& app : apps_) {
    const std::string prefix = "app." + app->name() + ".";
    app->visit_counters([&](std::string_view name, std::uint64_t value) {
      std::string full = prefix;
      full.append(name);
      f(full, value);
    });
  }
}

}  // namespace tapstack::apps
