// tapstack replay: feeds a capture into a fresh stack in virtual time and
// records what the stack sends (../shared/CLI.md, docs/replay.md).
//
// Virtual time is the capture's: before each frame the stack's timers run up
// to the frame's timestamp (poll at every deadline <= t, a bounded number of
// times), then the frame goes in with receive(frame, t) and the host is polled
// at t. After the last frame the host is polled once more at that frame's
// time and replay ends: there is no drain (timers that would fire later, such
// as ARP retries or reassembly timeouts, do not run). Timestamps that go
// backwards are taken as the latest seen (the stack's clock never decreases).
//
// Only frames addressed to the stack reach it: to its MAC or broadcast (no
// multicast group is joined), and not from its own MAC (in a capture taken on
// the stack's side those are the frames it sent; a TAP never loops them
// back). The rest (other hosts' traffic) are skipped and counted.
//
// Deterministic: no clock, and a fixed default seed, so the same capture and
// flags give byte-identical output. --expect compares that output with a
// golden capture frame by frame (bytes, and timestamps at the microsecond a
// pcap holds).
//
// Exit status: 0 ran (and matched the golden, with --expect); 1 the output
// differs from the golden (the first difference is printed); 2 a bad flag or
// value, an unreadable file, or a malformed or truncated capture.
#include <algorithm>
#include <cstddef>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/app_host.hpp"
#include "apps/service_spec.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/capture/pcap_file.hpp"
#include "stack/config.hpp"
#include "stack/link/device.hpp"
#include "stack/stack.hpp"
#include "stack/wire/dissect.hpp"
#include "stack/wire/ethernet.hpp"
#include "tools/commands.hpp"
#include "tools/options.hpp"

namespace tapstack::tools {

namespace {

// The default seed of the stack's random numbers (IP identification, ephemeral ports): fixed,
// so a replay is reproducible without flags.
constexpr std::uint64_t kDefaultSeed = 1;
// Polls allowed in one gap between frames (and after the last). A stack that keeps asking to be
// polled "now" would otherwise spin forever; far beyond what ARP retries or reassembly need.
constexpr std::size_t kMaxPollsPerGap = 10000;

struct ReplayOptions {
  std::string in;
  std::string ip;
  std::string mac;
  std::vector<std::string> serve;
  std::string out;
  std::string expect;
  std::uint64_t seed = kDefaultSeed;
};

// One frame the stack sent, stamped with the virtual time it was sent at.
struct SentFrame {
  Instant timestamp;
  ByteVector data;
};

// The device replay gives the stack: it keeps every frame transmitted, stamped with the virtual
// time the driver sets before each call into the stack. It never refuses a frame (the output
// must not depend on queue sizes) and never delivers one (frames go straight to receive()).
class RecordingDevice final : public link::Device {
 public:
  RecordingDevice(wire::MacAddress mac, std::size_t mtu) : mac_(mac), mtu_(mtu) {}

  void set_now(Instant now) { now_ = now; }
  const std::vector<SentFrame>& sent() const { return sent_; }

  wire::MacAddress mac() const override { return mac_; }
  std::size_t mtu() const override { return mtu_; }
  link::DeviceCapabilities capabilities() const override { return {}; }
  link::DeviceCounters counters() const override { return counters_; }

  Result<std::size_t, link::DeviceError> transmit_batch(std::span<const link::Frame> frames) override {
    std::size_t taken = 0;
    for (const link::Frame& frame : frames) {
      if (auto error = validate_tx(frame)) {
        counters_.tx_invalid++;
        if (taken == 0) {
          return fail(*error);
        }
        return taken;
      }
      sent_.push_back(SentFrame{now_, ByteVector(frame.data.begin(), frame.data.end())});
      counters_.tx_frames++;
      counters_.tx_bytes += frame.data.size();
      taken++;
    }
    return taken;
  }

  Result<std::size_t, link::DeviceError> receive(link::FrameBatch&) override { return std::size_t{0}; }

 private:
  wire::MacAddress mac_;
  std::size_t mtu_;
  Instant now_;
  link::DeviceCounters counters_;
  std::vector<SentFrame> sent_;
};

struct ReplayStats {
  std::uint64_t read = 0;        // records in the capture
  std::uint64_t fed = 0;         // given to the stack
  std::uint64_t not_for_us = 0;  // skipped: another destination MAC
  std::uint64_t ours = 0;        // skipped: sent from the stack's own MAC (its side of the capture)
  std::uint64_t too_short = 0;   // skipped: shorter than an Ethernet header
  std::uint64_t poll_limit = 0;  // gaps where kMaxPollsPerGap was reached
};

// "2" exit with a one-line message.
int usage_exit(const std::string& message) {
  std::cerr << "tapstack replay: " << message << "\n";
  return kExitUsage;
}

std::string format_time(Instant t) {
  char buf[48];
  const std::int64_t ns = t.ns();
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%06" PRId64, ns / 1'000'000'000, (ns % 1'000'000'000) / 1000);
  return buf;
}

// What a pcap holds of an instant: microseconds (PcapWriter rounds down).
Instant to_microseconds(Instant t) { return Instant::from_ns(t.ns() - t.ns() % 1000); }

void describe(const char* label, std::size_t number, const Instant* timestamp, const ByteVector* frame) {
  if (frame == nullptr) {
    std::cout << "  " << label << ": no frame " << number << "\n";
    return;
  }
  std::cout << "  " << label << " frame " << number << " at " << format_time(*timestamp) << ", " << frame->size()
            << " bytes:\n";
  const wire::Dissection d = wire::dissect_frame(Bytes(frame->data(), frame->size()));
  for (const wire::DissectedLayer& layer : d.layers) {
    std::cout << "    " << (layer.quoted ? "(quoted) " : "") << layer.name << ": " << layer.summary;
    if (!layer.problem.empty()) {
      std::cout << " [" << layer.problem << "]";
    }
    std::cout << "\n";
  }
}

// Compares the output with the golden records; prints the first difference. True when equal.
bool compare(const std::vector<SentFrame>& produced, const std::vector<capture::PcapRecord>& golden,
             const std::string& golden_path) {
  const std::size_t n = std::max(produced.size(), golden.size());
  for (std::size_t i = 0; i < n; ++i) {
    const SentFrame* ours = i < produced.size() ? &produced[i] : nullptr;
    const capture::PcapRecord* theirs = i < golden.size() ? &golden[i] : nullptr;
    const Instant our_time = ours != nullptr ? to_microseconds(ours->timestamp) : Instant{};
    std::string what;
    if (ours == nullptr) {
      what = "the output ends (" + std::to_string(produced.size()) + " frames) where the golden has more";
    } else if (theirs == nullptr) {
      what = "the golden ends (" + std::to_string(golden.size()) + " frames) where the output has more";
    } else {
      const std::size_t common = std::min(ours->data.size(), theirs->data.size());
      std::size_t offset = 0;
      while (offset < common && ours->data[offset] == theirs->data[offset]) {
        offset++;
      }
      if (offset < common || ours->data.size() != theirs->data.size()) {
        what = "first differing byte at offset " + std::to_string(offset);
        if (offset == common) {
          what += " (lengths " + std::to_string(ours->data.size()) + " and " + std::to_string(theirs->data.size()) +
                  ")";
        } else {
          char bytes[32];
          std::snprintf(bytes, sizeof bytes, " (0x%02x, golden 0x%02x)", std::to_integer<unsigned>(ours->data[offset]),
                        std::to_integer<unsigned>(theirs->data[offset]));
          what += bytes;
        }
      } else if (our_time != theirs->timestamp) {
        what = "same bytes, timestamps differ (" + format_time(our_time) + " and golden " +
               format_time(theirs->timestamp) + ")";
      }
    }
    if (what.empty()) {
      continue;
    }
    std::cout << "tapstack replay: output differs from " << golden_path << " at frame " << (i + 1) << ": " << what
              << "\n";
    describe("output", i + 1, ours != nullptr ? &our_time : nullptr, ours != nullptr ? &ours->data : nullptr);
    describe("golden", i + 1, theirs != nullptr ? &theirs->timestamp : nullptr,
             theirs != nullptr ? &theirs->data : nullptr);
    return false;
  }
  return true;
}

Result<std::vector<capture::PcapRecord>, std::string> read_all(const std::string& path, const char* flag) {
  auto reader = capture::PcapReader::open(path);
  if (!reader.ok()) {
    return fail(std::string(flag) + reader.error());
  }
  std::vector<capture::PcapRecord> records;
  for (;;) {
    auto record = reader->next();
    if (!record.ok()) {
      return fail(std::string(flag) + record.error());
    }
    if (!record->has_value()) {
      return records;
    }
    records.push_back(std::move(**record));
  }
}

int run_replay(const ReplayOptions& o) {
  StackConfig config;
  InterfaceConfig& itf = config.interface;
  if (auto ok = parse_ip_option(o.ip, itf); !ok.ok()) {
    return usage_exit(ok.error().message);
  }
  if (auto ok = parse_mac_option(o.mac, itf); !ok.ok()) {
    return usage_exit(ok.error().message);
  }
  auto services = parse_serve_options(o.serve);
  if (!services.ok()) {
    return usage_exit(services.error().message);
  }
  if (auto ok = config.validate(); !ok.ok()) {
    return usage_exit("--ip: " + ok.error());
  }

  // Every input is read (and checked) before anything runs: a truncated capture is an error,
  // not a shorter replay.
  auto input = read_all(o.in, "");
  if (!input.ok()) {
    return usage_exit(input.error());
  }
  for (std::size_t i = 0; i < input->size(); ++i) {
    const capture::PcapRecord& r = (*input)[i];
    if (r.data.size() < r.original_len) {
      return usage_exit(o.in + ": record " + std::to_string(i + 1) + " was cut to " + std::to_string(r.data.size()) +
                        " of " + std::to_string(r.original_len) +
                        " bytes by the capture's snapshot length; replay needs whole frames (capture with -s 0)");
    }
  }
  std::optional<std::vector<capture::PcapRecord>> golden;
  if (!o.expect.empty()) {
    auto read = read_all(o.expect, "--expect: ");
    if (!read.ok()) {
      return usage_exit(read.error());
    }
    golden = std::move(*read);
  }
  std::optional<capture::PcapWriter> writer;
  if (!o.out.empty()) {
    auto opened = capture::PcapWriter::open(o.out);
    if (!opened.ok()) {
      return usage_exit("--out: " + opened.error() + "; expected a FILE path that can be created");
    }
    writer.emplace(std::move(*opened));
  }

  RecordingDevice device(itf.mac, itf.mtu);
  std::optional<Stack> stack;
  try {
    stack.emplace(config, device, o.seed);
  } catch (const std::invalid_argument& e) {
    return usage_exit(e.what());
  }
  apps::AppHost host(*stack);
  for (const apps::ServiceSpec& spec : *services) {
    for (auto& app : apps::make_apps(spec)) {
      host.add(std::move(app));
    }
  }
  if (auto started = host.start(); !started.ok()) {
    return usage_exit("--serve: " + started.error());
  }

  ReplayStats stats;
  std::optional<Instant> now;       // virtual time: the latest instant given to the host
  std::optional<Instant> deadline;  // the host's next deadline (none before the first poll)
  auto poll_at = [&](Instant t) {
    device.set_now(t);
    deadline = host.poll(t);
    now = t;
  };
  // Runs the host's timers up to `t`: a poll at every deadline <= t, at most kMaxPollsPerGap.
  auto run_until = [&](Instant t) {
    std::size_t polls = 0;
    while (deadline && *deadline <= t && polls < kMaxPollsPerGap) {
      poll_at(std::max(*deadline, *now));
      polls++;
    }
    if (polls == kMaxPollsPerGap) {
      stats.poll_limit++;
    }
  };

  for (const capture::PcapRecord& record : *input) {
    stats.read++;
    const Instant t = now ? std::max(*now, record.timestamp) : record.timestamp;
    const auto eth = wire::EthernetView::parse(Bytes(record.data.data(), record.data.size()));
    if (!eth.ok()) {
      stats.too_short++;
      continue;
    }
    // A frame from our own MAC is one the stack sent (a capture taken on its side): never fed back.
    if (eth->source() == itf.mac) {
      stats.ours++;
      continue;
    }
    const wire::MacAddress dst = eth->destination();
    const bool for_us = dst == itf.mac || dst.is_broadcast() ||
                        std::find(itf.multicast_macs.begin(), itf.multicast_macs.end(), dst) != itf.multicast_macs.end();
    if (!for_us) {
      stats.not_for_us++;
      continue;
    }
    if (!deadline) {
      poll_at(t);  // the first poll (gratuitous ARP) at the first frame's time
    }
    run_until(t);
    device.set_now(t);
    now = t;
    host.receive(Bytes(record.data.data(), record.data.size()), t);
    stats.fed++;
    poll_at(t);
  }
  if (now) {
    // The last frame's time once more, and no drain: later timers do not run.
    poll_at(*now);
  }
  host.stop();

  const std::vector<SentFrame>& sent = device.sent();
  if (writer) {
    for (const SentFrame& frame : sent) {
      if (auto ok = writer->write(frame.timestamp, Bytes(frame.data.data(), frame.data.size())); !ok.ok()) {
        return usage_exit("--out: " + ok.error());
      }
    }
    if (auto ok = writer->flush(); !ok.ok()) {
      return usage_exit("--out: " + ok.error());
    }
  }
  std::cout << "tapstack replay: " << stats.read << " frames read, " << stats.fed << " fed to the stack, "
            << stats.ours << " from our MAC, " << stats.not_for_us << " not for us, " << stats.too_short << " too short; " << sent.size()
            << " frames sent\n";
  if (stats.poll_limit > 0) {
    std::cout << "tapstack replay: warning: the stack asked for more than " << kMaxPollsPerGap
              << " polls between two frames " << stats.poll_limit << " times (polling was cut short)\n";
  }
  if (golden) {
    if (!compare(sent, *golden, o.expect)) {
      return kExitFailure;
    }
    std::cout << "tapstack replay: output matches " << o.expect << " (" << golden->size() << " frames)\n";
  }
  return kExitOk;
}

}  // namespace

void register_replay(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand("replay",
                                 "Feed a capture's frames for the stack into a fresh stack in virtual time; "
                                 "record (and optionally check) what it sends");
  cmd->add_option("IN", options->in, "Capture to replay (pcap or pcapng, Ethernet)")->required()->type_name("IN.pcap");
  cmd->add_option("--ip", options->ip, "The stack's address and prefix, e.g. 10.78.0.2/24")
      ->required()
      ->type_name("ADDR/PREFIX");
  cmd->add_option("--mac", options->mac,
                  "The stack's MAC: frames to it or broadcast are fed in (default: 02:54 followed by the four "
                  "address bytes)")
      ->type_name("MAC");
  cmd->add_option("--serve", options->serve,
                  "Run a service, repeatable: echo:PORT (RFC 862) and discard:PORT (RFC 863) over TCP and UDP, "
                  "chargen:PORT (RFC 864), http:PORT (/bytes/N; replay serves no files from a DIR)")
      ->type_name("SPEC")
      ->allow_extra_args(false);
  cmd->add_option("--out", options->out, "Write the frames the stack sent, with virtual timestamps, to FILE (pcap)")
      ->type_name("OUT.pcap");
  cmd->add_option("--expect", options->expect,
                  "Compare the frames sent with GOLDEN frame by frame (bytes and timestamps): exit 0 when equal, "
                  "else print the first difference and exit 1")
      ->type_name("GOLDEN.pcap");
  cmd->add_option("--seed", options->seed, "Seed of the stack's random numbers (default 1)")->type_name("N");
  cmd->callback([options, &exit_code] { exit_code = run_replay(*options); });
}

}  // namespace tapstack::tools
