#include "stack/os/event_loop.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace tapstack::os {

namespace {

static_assert(sizeof(sigset_t) <= 128, "EventLoop::old_mask_ must hold a sigset_t");

// epoll_event.data.u64 tags.
constexpr std::uint64_t kTagDevice = 1;
constexpr std::uint64_t kTagSignal = 2;
// Watched descriptors: kTagWatchBase + fd.
constexpr std::uint64_t kTagWatchBase = 16;
// Events returned per epoll_wait: the device, the signalfd and a few watched descriptors.
constexpr int kMaxEvents = 8;
// signalfd_siginfo records read per wake: more than two pending stop signals change nothing.
constexpr int kSignalReadsMax = 8;

std::string sys_error(std::string_view what, int err) {
  std::string m(what);
  m.append(": ").append(std::strerror(err));
  return m;
}

void close_if_open(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

}  // namespace

Result<EventLoop, std::string> EventLoop::create(int device_fd, EventLoopConfig config) {
  if (device_fd < 0) {
    return fail(std::string("event loop: no device file descriptor"));
  }
  if (config.batch_frames == 0 || config.batches_per_wake_max == 0) {
    return fail(std::string("event loop: batch_frames and batches_per_wake_max must be >= 1"));
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);

  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    return fail(sys_error("epoll_create1", errno));
  }
  // Blocked first, so that a signal arriving between here and the first read waits in the
  // signalfd instead of killing the process before the capture is flushed.
  sigset_t old_mask;
  if (::pthread_sigmask(SIG_BLOCK, &stop_signals, &old_mask) != 0) {
    const int err = errno;
    close_if_open(epoll_fd);
    return fail(sys_error("pthread_sigmask", err));
  }
  int signal_fd = ::signalfd(-1, &stop_signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close_if_open(epoll_fd);
    return fail(sys_error("signalfd", err));
  }
  EventLoop loop(epoll_fd, signal_fd, device_fd, std::move(config));
  std::memcpy(loop.old_mask_, &old_mask, sizeof old_mask);
  loop.restore_mask_ = true;

  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTagSignal;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &ev) != 0) {
    return fail(sys_error("epoll_ctl(signalfd)", errno));
  }
  ev.events = EPOLLIN;
  ev.data.u64 = kTagDevice;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, device_fd, &ev) != 0) {
    return fail(sys_error("epoll_ctl(device)", errno));
  }
  return loop;
}

EventLoop::EventLoop(int epoll_fd, int signal_fd, int device_fd, EventLoopConfig config)
    : epoll_fd_(epoll_fd), signal_fd_(signal_fd), device_fd_(device_fd), config_(std::move(config)) {}

EventLoop::EventLoop(EventLoop&& other) noexcept
    : epoll_fd_(std::exchange(other.epoll_fd_, -1)),
      signal_fd_(std::exchange(other.signal_fd_, -1)),
      device_fd_(other.device_fd_),
      restore_mask_(std::exchange(other.restore_mask_, false)),
      config_(std::move(other.config_)),
      watches_(std::move(other.watches_)),
      stop_requested_(other.stop_requested_),
      counters_(other.counters_) {
  std::memcpy(old_mask_, other.old_mask_, sizeof old_mask_);
}

EventLoop::~EventLoop() {
  close_if_open(signal_fd_);
  close_if_open(epoll_fd_);
  if (restore_mask_) {
    // A stop signal that arrived after the last read of the signalfd becomes deliverable here
    // and takes its default action: the caller has flushed everything by then.
    sigset_t old_mask;
    std::memcpy(&old_mask, old_mask_, sizeof old_mask);
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
}

Result<bool, std::string> EventLoop::watch(int fd, bool readable, bool writable) {
  const std::uint32_t want = (readable ? std::uint32_t{EPOLLIN} : 0U) | (writable ? std::uint32_t{EPOLLOUT} : 0U);
  auto it = std::find_if(watches_.begin(), watches_.end(), [fd](const Watch& w) { return w.fd == fd; });
  if (it != watches_.end() && it->events == want) {
    return true;
  }
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = kTagWatchBase + static_cast<std::uint64_t>(fd);
  if (want == 0) {
    if (it != watches_.end()) {
      // Removed rather than left with no interest: EPOLLHUP and EPOLLERR are reported regardless
      // of interest, and a closed pipe would wake the loop forever.
      if (::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, &ev) != 0) {
        return fail(sys_error("epoll_ctl(DEL watched fd)", errno));
      }
      watches_.erase(it);
    }
    return true;
  }
  if (it != watches_.end()) {
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
      return fail(sys_error("epoll_ctl(MOD watched fd)", errno));
    }
    it->events = want;
    return true;
  }
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    if (errno == EPERM) {
      return false;  // a regular file or the like: always ready, nothing to wait for
    }
    return fail(sys_error("epoll_ctl(ADD watched fd)", errno));
  }
  watches_.push_back(Watch{fd, want});
  return true;
}

Result<LoopStop, std::string> EventLoop::run(link::Device& device, LoopHost& host, const MonotonicClock& clock) {
  link::FrameBatch batch(config_.batch_frames, device.rx_buffer_len());
  const bool ticking = config_.tick_interval > Duration::zero() && config_.on_tick;
  Instant now = clock.now();
  Instant next_tick = ticking ? now + config_.tick_interval : Instant::never();
  Instant deadline = host.poll(now);
  counters_.polls++;
  LoopStop stop;
  bool stopping = false;

  while (!stopping && !stop_requested_) {
    epoll_event events[kMaxEvents];
    const int wait_ms = timeout_ms(now, std::min(deadline, next_tick), -1);
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, wait_ms);
    if (n < 0) {
      if (errno == EINTR) {
        now = clock.now();
        continue;  // another signal's handler ran; SIGINT/SIGTERM come through the signalfd
      }
      return fail(sys_error("epoll_wait", errno));
    }
    counters_.wakes++;
    now = clock.now();
    bool readable = false;
    bool device_failed = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kTagDevice) {
        readable = true;
        device_failed = device_failed || (events[i].events & (EPOLLERR | EPOLLHUP)) != 0;
      } else if (events[i].data.u64 == kTagSignal) {
        for (int r = 0; r < kSignalReadsMax; ++r) {
          signalfd_siginfo info{};
          const ssize_t got = ::read(signal_fd_, &info, sizeof info);
          if (got != static_cast<ssize_t>(sizeof info)) {
            break;  // EAGAIN: none left
          }
          if (!stopping) {
            stop.signal = static_cast<int>(info.ssi_signo);
            stopping = true;
          }
        }
      }
    }
    if (n == 0) {
      counters_.timeouts++;
    }

    if (readable) {
      for (std::size_t b = 0; b < config_.batches_per_wake_max; ++b) {
        batch.clear();
        auto got = device.receive(batch);
        if (!got.ok()) {
          return fail("device receive: " + std::string(link::to_string(got.error())));
        }
        if (batch.empty()) {
          break;
        }
        counters_.batches++;
        // Each batch gets a fresh reading: under load, timers started while handling a late batch
        // must not be measured from the instant the wake began.
        now = clock.now();
        for (const link::Frame& frame : batch) {
          counters_.frames++;
          host.receive(frame.data, now);
        }
        if (!batch.full()) {
          break;  // drained: the device stopped at EAGAIN
        }
        if (b + 1 == config_.batches_per_wake_max) {
          counters_.batch_limit_hits++;  // level-triggered: the next epoll_wait returns at once
        }
      }
      if (device_failed && batch.empty()) {
        return fail(std::string("device: error or hang-up on its file descriptor"));
      }
    }

    now = clock.now();
    deadline = host.poll(now);
    counters_.polls++;
    if (ticking && now >= next_tick) {
      config_.on_tick(now);
      next_tick = next_tick + config_.tick_interval;
      if (next_tick <= now) {
        next_tick = now + config_.tick_interval;  // fell behind (a stopped process): no burst of ticks
      }
    }
  }
  return stop;
}

}  // namespace tapstack::os
