// tapstack live: runs the stack on a TAP device against the real kernel
// (../shared/CLI.md). Everything is checked before anything starts; then the
// TAP is opened (created when missing) and brought up, the services bound, and
// the event loop (stack/os/event_loop.hpp) drives the stack with the
// monotonic clock until SIGINT or SIGTERM. On the way out: services stopped,
// pcap flushed, counters printed, exit 0.
//
// Exit status: 0 stopped by a signal; 1 the TAP or the loop failed (the
// message says why, e.g. no CAP_NET_ADMIN); 2 a bad flag or value (one line
// naming the flag and the accepted form; nothing was started).
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/app_host.hpp"
#include "apps/service_spec.hpp"
#include "stack/capture/pcap_recorder.hpp"
#include "stack/config.hpp"
#include "stack/os/event_loop.hpp"
#include "stack/os/monotonic_clock.hpp"
#include "stack/os/tap_device.hpp"
#include "stack/stack.hpp"
#include "tools/commands.hpp"
#include "tools/options.hpp"

namespace tapstack::tools {

namespace {

// The event loop ticks this often: the pcap is flushed, and --stats counts its interval in ticks.
constexpr Duration kTick = Duration::seconds(1);

struct LiveOptions {
  std::string tap;
  std::string ip;
  std::string mac;
  std::string gateway;
  std::vector<std::string> serve;
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

// The loop's view of the stack with its services.
class LiveHost final : public os::LoopHost {
 public:
  explicit LiveHost(apps::AppHost& host) : host_(host) {}
  void receive(Bytes frame, Instant now) override { host_.receive(frame, now); }
  Instant poll(Instant now) override { return host_.poll(now); }

 private:
  apps::AppHost& host_;
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
  for (const apps::ServiceSpec& spec : live.services) {
    for (auto& app : apps::make_apps(spec)) {
      host.add(std::move(app));
    }
  }
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
    std::fprintf(stderr, "tapstack live: serving %s\n", host.app(i).description().c_str());
  }
  if (recorder) {
    std::fprintf(stderr, "tapstack live: recording to %s\n", live.pcap.c_str());
  }
  std::fprintf(stderr, "tapstack live: running; SIGINT (Ctrl-C) or SIGTERM stops it\n");
  std::fflush(stderr);

  LiveHost loop_host(host);
  auto stopped = loop->run(device, loop_host, clock);

  // Orderly end, signals still blocked: services closed, capture flushed, counters printed.
  host.stop();
  (void)stack->poll(clock.now());
  int status = kExitOk;
  if (stopped.ok()) {
    std::fprintf(stderr, "tapstack live: stopped by %s after %.1f s\n",
                 std::string(signal_name(stopped->signal)).c_str(), (clock.now() - start).seconds_f());
  } else {
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
                  "Run a service, repeatable: echo:PORT (RFC 862), discard:PORT (RFC 863) over UDP; "
                  "chargen and http need TCP (not yet)")
      ->type_name("SPEC")
      ->allow_extra_args(false);
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
