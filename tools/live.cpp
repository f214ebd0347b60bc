// tapstack live: runs the stack on a TAP device against the real kernel
// (../shared/CLI.md). Everything is checked before anything starts; then the
// TAP is opened (created when missing) and brought up, the services bound, and
// the event loop (stack/os/event_loop.hpp) drives the stack with the
// monotonic clock until SIGINT or SIGTERM, or until `--connect` is done. On
// the way out: services stopped and their connections closed (the loop runs
// on for at most kCloseTimeMax so the FINs are delivered and acknowledged),
// pcap flushed, counters printed.
//
// --connect HOST:PORT (apps/connect_app.hpp): standard input and output are
// made non-blocking (their flags are restored at exit) and watched by the
// event loop only while the connect app can use them; SIGPIPE is ignored so
// that a closed standard output is an error message, not a silent death.
//
// Exit status: 0 stopped by a signal, or --connect completed; 1 the TAP or
// the loop failed (the message says why, e.g. no CAP_NET_ADMIN), or the
// --connect connection was refused, reset or timed out; 2 a bad flag or
// value (one line naming the flag and the accepted form; nothing was
// started).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/app_host.hpp"
#include "apps/byte_stream.hpp"
#include "apps/connect_app.hpp"
#include "apps/service_spec.hpp"
#include "stack/capture/pcap_recorder.hpp"
#include "stack/config.hpp"
#include "stack/os/event_loop.hpp"
#include "stack/os/monotonic_clock.hpp"
#include "stack/os/tap_device.hpp"
#include "stack/stack.hpp"
#include "tools/commands.hpp"
#include "tools/file_source.hpp"
#include "tools/options.hpp"

namespace tapstack::tools {

namespace {

// The event loop ticks this often: the pcap is flushed, and --stats counts its interval in ticks.
constexpr Duration kTick = Duration::seconds(1);
// After a stop, the loop runs on at most this long so closing connections finish their FIN
// exchange (a live peer answers in well under a millisecond; a dead one is not waited for).
constexpr Duration kCloseTimeMax = Duration::seconds(2);

struct LiveOptions {
  std::string tap;
  std::string ip;
  std::string mac;
  std::string gateway;
  std::vector<std::string> serve;
  std::string connect;
  std::string pcap;
  bool stats = false;
  unsigned stats_interval = 5;
  std::optional<std::uint64_t> seed;
};

// Everything the options say, checked.
struct LivePlan {
  std::string tap;
  StackConfig config;
  std::vector<apps::ServiceSpec> services;
  std::optional<ConnectTarget> connect;
  std::string pcap;
  bool stats = false;
  unsigned stats_interval = 5;
  std::uint64_t seed = 0;
};

Result<LivePlan, UsageError> plan(const LiveOptions& o) {
  LivePlan p;
  // --tap
  if (o.tap.empty() || o.tap.size() > os::TapDevice::kMaxNameLen || o.tap.find_first_of("/ \t:") != std::string::npos ||
      o.tap == "." || o.tap == "..") {
    return fail(usage("--tap", in_quotes(o.tap) + " is not an interface name; expected IFNAME of 1.." +
                                   std::to_string(os::TapDevice::kMaxNameLen) +
                                   " characters without '/', ':' or spaces, e.g. tap0"));
  }
  p.tap = o.tap;

  // --ip ADDR/PREFIX, --mac
  InterfaceConfig& itf = p.config.interface;
  if (auto ok = parse_ip_option(o.ip, itf); !ok.ok()) {
    return fail(ok.error());
  }
  if (auto ok = parse_mac_option(o.mac, itf); !ok.ok()) {
    return fail(ok.error());
  }
  const wire::Ipv4Address* address = &itf.address;
  const unsigned prefix = itf.prefix_len;

  // --gateway
  if (!o.gateway.empty()) {
    const auto gw = wire::Ipv4Address::parse(o.gateway);
    constexpr std::string_view kGwForm = "expected an IPv4 address inside the --ip prefix, e.g. 10.99.0.1";
    if (!gw) {
      return fail(usage("--gateway", in_quotes(o.gateway) + " is not an IPv4 address; " + std::string(kGwForm)));
    }
    if (!itf.on_link(*gw)) {
      return fail(usage("--gateway", in_quotes(o.gateway) + " is not inside " + o.ip + "; " + std::string(kGwForm)));
    }
    if (*gw == *address || gw->is_broadcast() || (prefix < 31 && *gw == itf.subnet_broadcast()) ||
        (prefix < 31 && (gw->value & ~itf.netmask()) == 0)) {
      return fail(usage("--gateway", in_quotes(o.gateway) + " is our own, the network or the broadcast address; " +
                                         std::string(kGwForm)));
    }
    itf.gateway = *gw;
  }

  // --serve
  auto services = parse_serve_options(o.serve);
  if (!services.ok()) {
    return fail(services.error());
  }
  p.services = std::move(*services);

  // --connect (after --gateway: whether HOST is reachable depends on it)
  if (!o.connect.empty()) {
    auto target = parse_connect_option(o.connect, itf);
    if (!target.ok()) {
      return fail(target.error());
    }
    p.connect = *target;
  }

  // --stats-interval
  if (o.stats_interval == 0 || o.stats_interval > 86400) {
    return fail(usage("--stats-interval",
                      std::to_string(o.stats_interval) + " is out of range; expected SECONDS 1..86400"));
  }

  if (auto ok = p.config.validate(); !ok.ok()) {
    // Everything the flags set was checked above; this is a backstop naming the config field.
    return fail(usage("--ip", ok.error()));
  }
  p.pcap = o.pcap;
  p.stats = o.stats;
  p.stats_interval = o.stats_interval;
  p.seed = o.seed ? *o.seed : (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  return p;
}

// A non-blocking file descriptor as the connect app's source or sink. The descriptor's status
// flags are restored when it is destroyed (standard input is often the terminal the shell keeps
// using afterwards).
class FdStream final : public apps::ByteSource, public apps::ByteSink {
 public:
  FdStream(int fd, std::string_view what) : fd_(fd), what_(what) {
    saved_flags_ = ::fcntl(fd_, F_GETFL);
    if (saved_flags_ >= 0 && (saved_flags_ & O_NONBLOCK) == 0) {
      (void)::fcntl(fd_, F_SETFL, saved_flags_ | O_NONBLOCK);
    }
  }
  ~FdStream() override {
    if (saved_flags_ >= 0) {
      (void)::fcntl(fd_, F_SETFL, saved_flags_);
    }
  }
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  apps::IoResult read(MutableBytes out) override {
    while (true) {
      const ssize_t n = ::read(fd_, out.data(), out.size());
      if (n > 0) {
        return apps::IoResult::ok(static_cast<std::size_t>(n));
      }
      if (n == 0) {
        return apps::IoResult::end();
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return apps::IoResult::would_block();
      }
      if (errno != EINTR) {
        return apps::IoResult::failed(what_ + ": " + std::strerror(errno));
      }
    }
  }
  apps::IoResult write(Bytes data) override {
    while (true) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n >= 0) {
        return apps::IoResult::ok(static_cast<std::size_t>(n));
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return apps::IoResult::would_block();
      }
      if (errno != EINTR) {
        return apps::IoResult::failed(what_ + ": " + std::strerror(errno));
      }
    }
  }
  int fd() const { return fd_; }

 private:
  int fd_;
  std::string what_;
  int saved_flags_ = -1;
};

// The connect app with standard input and output, and what the loop watches for it.
struct ConnectIo {
  FdStream in{STDIN_FILENO, "standard input"};
  FdStream out{STDOUT_FILENO, "standard output"};
  apps::ConnectApp* app = nullptr;  // owned by the AppHost
  bool in_pollable = true;          // false: a regular file, never waited for
  bool out_pollable = true;
};

// The loop's view of the stack with its services (and the connect app, when there is one).
class LiveHost final : public os::LoopHost {
 public:
  LiveHost(apps::AppHost& host, os::EventLoop& loop, ConnectIo* connect)
      : host_(host), loop_(loop), connect_(connect) {}
  void receive(Bytes frame, Instant now) override { host_.receive(frame, now); }
  Instant poll(Instant now) override {
    const Instant next = host_.poll(now);
    if (connect_ != nullptr) {
      if (connect_->app->done()) {
        loop_.request_stop();
      }
      watch(connect_->in.fd(), connect_->in_pollable, connect_->app->wants_source(), false);
      watch(connect_->out.fd(), connect_->out_pollable, false, connect_->app->wants_sink());
    }
    return next;
  }

 private:
  void watch(int fd, bool& pollable, bool readable, bool writable) {
    if (!pollable) {
      return;
    }
    auto watched = loop_.watch(fd, readable, writable);
    if (!watched.ok()) {
      std::fprintf(stderr, "tapstack live: --connect: %s; not waiting for descriptor %d\n", watched.error().c_str(),
                   fd);
      pollable = false;
    } else if (!*watched) {
      pollable = false;  // a regular file: it never blocks, the app reads or writes it directly
    }
  }

  apps::AppHost& host_;
  os::EventLoop& loop_;
  ConnectIo* connect_;
};

// TCP connections still exchanging segments (TIME-WAIT ones are done; listeners are closed).
std::size_t open_connections(const Stack& stack) {
  const std::size_t all = stack.tcp_connections();
  const std::size_t done = stack.tcp_connections_in(TcpState::TimeWait) + stack.tcp_connections_in(TcpState::Listen);
  return all > done ? all - done : 0;
}

// After the apps closed their connections: runs on until none is open or `until`.
class ClosingHost final : public os::LoopHost {
 public:
  ClosingHost(apps::AppHost& host, os::EventLoop& loop, Instant until) : host_(host), loop_(loop), until_(until) {}
  void receive(Bytes frame, Instant now) override { host_.receive(frame, now); }
  Instant poll(Instant now) override {
    const Instant next = host_.poll(now);
    if (now >= until_ || open_connections(host_.stack()) == 0) {
      loop_.request_stop();
    }
    return std::min(next, until_);
  }

 private:
  apps::AppHost& host_;
  os::EventLoop& loop_;
  Instant until_;
};

std::string_view signal_name(int signal) {
  switch (signal) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a stop request";
  }
}

// Everything that counts, one "  name value" line each; counters at zero are summed up in one
// line (there are many, and the non-zero ones are the story).
void print_counters(const link::Device& tap, const capture::PcapRecorder* recorder, const os::EventLoop* loop,
                    const apps::AppHost& host) {
  std::size_t zeros = 0;
  auto line = [&zeros](std::string_view name, std::uint64_t value) {
    if (value == 0) {
      zeros++;
      return;
    }
    std::fprintf(stderr, "  %-44.*s %llu\n", static_cast<int>(name.size()), name.data(),
                 static_cast<unsigned long long>(value));
  };
  const link::DeviceCounters d = tap.counters();
  line("device.rx_frames", d.rx_frames);
  line("device.rx_bytes", d.rx_bytes);
  line("device.rx_dropped", d.rx_dropped);
  line("device.rx_invalid", d.rx_invalid);
  line("device.rx_errors", d.rx_errors);
  line("device.tx_frames", d.tx_frames);
  line("device.tx_bytes", d.tx_bytes);
  line("device.tx_full", d.tx_full);
  line("device.tx_invalid", d.tx_invalid);
  line("device.tx_errors", d.tx_errors);
  if (loop != nullptr) {
    loop->counters().visit(
        [&](std::string_view name, std::uint64_t value) { line("loop." + std::string(name), value); });
  }
  host.stack().visit_counters(line);
  host.visit_counters(line);
  if (recorder != nullptr) {
    line("pcap.frames_recorded", recorder->frames_recorded());
    line("pcap.write_errors", recorder->write_errors());
  }
  std::fprintf(stderr, "  (%zu more counters at 0)\n", zeros);
  std::fflush(stderr);
}

int run_live(const LiveOptions& options) {
  auto p = plan(options);
  if (!p.ok()) {
    std::cerr << "tapstack live: " << p.error().message << "\n";
    return kExitUsage;
  }
  LivePlan& live = *p;
  const os::MonotonicClock clock;

  // The capture file first: a path that cannot be written is a bad value, reported before the
  // TAP is touched.
  std::optional<capture::PcapWriter> writer;
  if (!live.pcap.empty()) {
    auto opened = capture::PcapWriter::open(live.pcap);
    if (!opened.ok()) {
      std::cerr << "tapstack live: --pcap: " << opened.error() << "; expected a FILE path that can be created\n";
      return kExitUsage;
    }
    writer.emplace(std::move(*opened));
  }

  // DIRs of http services: a missing directory is a bad value, reported before the TAP is touched.
  std::vector<std::unique_ptr<apps::FileSource>> file_sources(live.services.size());
  for (std::size_t i = 0; i < live.services.size(); ++i) {
    const apps::ServiceSpec& spec = live.services[i];
    if (spec.kind == apps::ServiceKind::Http && !spec.dir.empty()) {
      auto source = DirectoryFileSource::create(spec.dir);
      if (!source.ok()) {
        std::cerr << "tapstack live: --serve: 'http:" << spec.port << ":" << spec.dir << "': " << source.error()
                  << "; expected http:PORT[:DIR] with DIR an existing directory\n";
        return kExitUsage;
      }
      file_sources[i] = std::move(*source);
    }
  }

  os::TapConfig tap_config;
  tap_config.name = live.tap;
  tap_config.bring_up = true;
  tap_config.mac = live.config.interface.mac;
  auto tap = os::TapDevice::open(tap_config);
  if (!tap.ok()) {
    std::cerr << "tapstack live: cannot open TAP " << live.tap << ": " << tap.error().message << "\n";
    return kExitFailure;
  }

  // pcap timestamps: the monotonic clock moved to the wall clock's epoch once, so the capture
  // shows real dates and never goes backwards within the run.
  const Duration wall = os::MonotonicClock::wall_offset();
  std::unique_ptr<capture::PcapRecorder> recorder;
  if (writer) {
    recorder = std::make_unique<capture::PcapRecorder>(*tap, std::move(*writer),
                                                       [&clock, wall] { return clock.now() + wall; });
  }
  link::Device& device = recorder ? static_cast<link::Device&>(*recorder) : static_cast<link::Device&>(*tap);

  live.config.interface.mtu = tap->mtu();
  std::optional<Stack> stack;
  try {
    stack.emplace(live.config, device, live.seed);
  } catch (const std::invalid_argument& e) {
    std::cerr << "tapstack live: " << e.what() << "\n";
    return kExitFailure;
  }
  apps::AppHost host(*stack);
  for (std::size_t i = 0; i < live.services.size(); ++i) {
    for (auto& app : apps::make_apps(live.services[i], std::move(file_sources[i]))) {
      host.add(std::move(app));
    }
  }
  std::unique_ptr<ConnectIo> connect_io;
  if (live.connect) {
    // A closed standard output must be a write error (EPIPE) reported by the app, not SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    connect_io = std::make_unique<ConnectIo>();
    apps::ConnectConfig connect_config;
    connect_config.address = live.connect->address;
    connect_config.port = live.connect->port;
    auto app = std::make_unique<apps::ConnectApp>(connect_config, connect_io->in, connect_io->out);
    connect_io->app = app.get();
    host.add(std::move(app));
  }
  // The stack learns the time before any app opens a socket: timers an app starts in start()
  // (the --connect SYN's retransmission timer) are then measured from now, not from the epoch.
  (void)stack->poll(clock.now());
  if (auto started = host.start(); !started.ok()) {
    std::cerr << "tapstack live: " << started.error() << "\n";
    return kExitFailure;
  }

  const Instant start = clock.now();
  unsigned ticks = 0;
  os::EventLoop* loop_ptr = nullptr;
  os::EventLoopConfig loop_config;
  loop_config.tick_interval = kTick;
  loop_config.on_tick = [&](Instant now) {
    if (recorder) {
      (void)recorder->writer().flush();
    }
    if (live.stats && ++ticks % live.stats_interval == 0) {
      std::fprintf(stderr, "tapstack live: counters at %.1f s\n", (now - start).seconds_f());
      print_counters(*tap, recorder.get(), loop_ptr, host);
    }
  };
  auto loop = os::EventLoop::create(tap->fd(), std::move(loop_config));
  if (!loop.ok()) {
    std::cerr << "tapstack live: event loop: " << loop.error() << "\n";
    return kExitFailure;
  }
  loop_ptr = &*loop;

  const InterfaceConfig& itf = live.config.interface;
  std::fprintf(stderr, "tapstack live: %s up: %s/%u at %s, mtu %zu%s%s, seed %llu\n", tap->name().c_str(),
               itf.address.to_string().c_str(), static_cast<unsigned>(itf.prefix_len), itf.mac.to_string().c_str(),
               itf.mtu, itf.gateway ? ", gateway " : "", itf.gateway ? itf.gateway->to_string().c_str() : "",
               static_cast<unsigned long long>(live.seed));
  for (std::size_t i = 0; i < host.size(); ++i) {
    const bool is_connect = connect_io && &host.app(i) == connect_io->app;
    std::fprintf(stderr, "tapstack live: %s %s\n", is_connect ? "opening" : "serving",
                 host.app(i).description().c_str());
  }
  if (recorder) {
    std::fprintf(stderr, "tapstack live: recording to %s\n", live.pcap.c_str());
  }
  std::fprintf(stderr, "tapstack live: running; SIGINT (Ctrl-C) or SIGTERM stops it\n");
  std::fflush(stderr);

  LiveHost loop_host(host, *loop, connect_io.get());
  auto stopped = loop->run(device, loop_host, clock);

  // Orderly end, signals still blocked: the apps close their connections, the loop runs on until
  // those closes complete (bounded), then the capture is flushed and the counters printed.
  host.stop();
  int status = kExitOk;
  if (stopped.ok()) {
    const double after = (clock.now() - start).seconds_f();
    if (connect_io && connect_io->app->done()) {
      if (connect_io->app->exit_status() != 0) {
        std::fprintf(stderr, "tapstack live: --connect: %s (after %.1f s)\n", connect_io->app->error().c_str(), after);
        status = kExitFailure;
      } else {
        std::fprintf(stderr, "tapstack live: --connect: done after %.1f s\n", after);
      }
    } else {
      std::fprintf(stderr, "tapstack live: stopped by %s after %.1f s\n",
                   std::string(signal_name(stopped->signal)).c_str(), after);
    }
    if (const std::size_t open = open_connections(*stack); open > 0) {
      std::fprintf(stderr, "tapstack live: closing %zu TCP connections (waiting at most %.0f s)\n", open,
                   kCloseTimeMax.seconds_f());
      std::fflush(stderr);
      ClosingHost closing(host, *loop, clock.now() + kCloseTimeMax);
      loop->reset_stop();
      auto closed = loop->run(device, closing, clock);
      if (!closed.ok()) {
        std::fprintf(stderr, "tapstack live: %s (errno %d)\n", closed.error().c_str(), tap->last_errno());
        status = kExitFailure;
      } else if (const std::size_t left = open_connections(*stack); left > 0) {
        std::fprintf(stderr, "tapstack live: %zu TCP connections did not finish closing%s\n", left,
                     closed->signal != 0 ? " (stopped again)" : "");
      }
    }
  } else {
    (void)stack->poll(clock.now());
    std::fprintf(stderr, "tapstack live: %s (errno %d)\n", stopped.error().c_str(), tap->last_errno());
    status = kExitFailure;
  }
  if (recorder) {
    if (auto flushed = recorder->writer().flush(); !flushed.ok()) {
      std::fprintf(stderr, "tapstack live: --pcap: %s\n", flushed.error().c_str());
      status = kExitFailure;
    }
    if (recorder->first_write_error()) {
      std::fprintf(stderr, "tapstack live: --pcap: %llu frames not recorded: %s\n",
                   static_cast<unsigned long long>(recorder->write_errors()), recorder->first_write_error()->c_str());
    }
  }
  std::fprintf(stderr, "tapstack live: counters\n");
  print_counters(*tap, recorder.get(), loop_ptr, host);
  return status;
}

}  // namespace

void register_live(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<LiveOptions>();
  auto* cmd = app.add_subcommand("live", "Run the stack on a TAP device against the real kernel (needs CAP_NET_ADMIN)");
  cmd->add_option("--tap", options->tap, "TAP interface to attach to; created (and removed on exit) when missing")
      ->required()
      ->type_name("IFNAME");
  cmd->add_option("--ip", options->ip, "The stack's address and prefix, e.g. 10.99.0.2/24")
      ->required()
      ->type_name("ADDR/PREFIX");
  cmd->add_option("--mac", options->mac,
                  "The stack's MAC (default: 02:54 followed by the four address bytes, locally administered)")
      ->type_name("MAC");
  cmd->add_option("--gateway", options->gateway, "Default gateway, inside the --ip prefix")->type_name("ADDR");
  cmd->add_option("--serve", options->serve,
                  "Run a service, repeatable: echo:PORT (RFC 862, TCP and UDP), discard:PORT (RFC 863, TCP and "
                  "UDP), chargen:PORT (RFC 864, TCP), http:PORT[:DIR] (HTTP/1.1 GET/HEAD with keep-alive: "
                  "/bytes/N serves N generated bytes, byte i = 'a' + i % 26; with DIR the files below DIR)")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  cmd->add_option("--connect", options->connect,
                  "Open a TCP connection to HOST:PORT and copy standard input to it and it to standard output "
                  "(like nc); at end of input send FIN, exit 0 once the peer has closed too, 1 if refused, "
                  "reset or timed out")
      ->type_name("HOST:PORT");
  cmd->add_option("--pcap", options->pcap, "Record every frame sent and received to FILE (pcap)")->type_name("FILE");
  cmd->add_flag("--stats", options->stats, "Print the counters to stderr periodically (and always at exit)");
  cmd->add_option("--stats-interval", options->stats_interval, "Seconds between --stats prints (default 5)")
      ->type_name("SECONDS");
  cmd->add_option_function<std::uint64_t>(
         "--seed", [options](const std::uint64_t& seed) { options->seed = seed; },
         "Seed of the stack's random numbers (IP identification, ephemeral ports); default: random, printed")
      ->type_name("N");
  cmd->callback([options, &exit_code] { exit_code = run_live(*options); });
}

}  // namespace tapstack::tools
