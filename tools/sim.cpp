// tapstack sim: the TCP transfer scenario (sim/tcp_transfer.hpp) on a
// simulated Ethernet segment, in virtual time (../shared/CLI.md).
//
// Two stacks (client 10.0.0.1, server 10.0.0.2); the client opens K
// connections and sends N seeded random bytes on each; the server echoes them
// back, so N bytes flow each way; the client checks every echoed byte in order,
// then both sides close. Faults apply to each direction with the given
// per-frame probabilities.
//
// Flags beyond CLI.md's: --partition-interval MS / --partition-duration MS
// (random outages), --time-limit S (virtual), and --sweep COUNT: runs the seeds
// --seed .. --seed+COUNT-1, each with a fault mix derived from the seed
// (sim/transfer_sweep.hpp), prints one line per failing seed with its replay
// command and a tally (ci/sweep). With --sweep, --connections and --bytes
// default to 3 and 40000 and the fault flags, --mtu and --pcap are refused.
//
// Deterministic: the same flags give the same output byte for byte (and the
// same pcap). Exit status: 0 every transfer completed byte-exact; 1 one did
// not (the last line, on stdout, is the replay command; with --json it is the
// "replay" field and also goes to stderr); 2 a bad flag or value.
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/replay.hpp"
#include "sim/tcp_transfer.hpp"
#include "sim/transfer_sweep.hpp"
#include "tools/commands.hpp"

namespace tapstack::tools {

namespace {

// The flags bound to TransferKnobs, with CLI11's type name for --help. The values are taken as
// text and parsed by the OptionTable (sim/replay.hpp), so that what is parsed is exactly what the
// replay line renders back.
struct KnobFlag {
  const char* flag;
  const char* type;
  const char* help;
  bool fault;  // refused with --sweep (the mix comes from the seed)
};
constexpr KnobFlag kKnobFlags[] = {
    {"--seed", "N", "Master seed: faults, ISNs, ports and data (default 1; with --sweep the first seed)", false},
    {"--loss", "P", "Probability a frame is lost, per frame and direction, 0..1 (default 0)", true},
    {"--reorder", "P", "Probability a frame is held back 5 ms so later frames overtake it, 0..1 (default 0)", true},
    {"--duplicate", "P", "Probability a frame is delivered twice, 0..1 (default 0)", true},
    {"--corrupt", "P", "Probability one bit of a frame is flipped, 0..1 (default 0)", true},
    {"--delay", "MS", "One-way delay in milliseconds (default 1)", true},
    {"--jitter", "MS", "Extra one-way delay, uniform in 0..MS milliseconds, order kept (default 0)", true},
    {"--rate", "MBIT", "Rate limit per direction in Mbit/s; 0 is unlimited (default 0)", true},
    {"--mtu", "BYTES", "IP MTU of both hosts and the link, 68..65521 (default 1500)", true},
    {"--bytes", "N", "Bytes each connection sends; the server echoes them back (default 1048576)", false},
    {"--connections", "K", "Connections opened at once, 1..1000 (default 1)", false},
    {"--partition-interval", "MS", "Random outages: mean milliseconds between them (default 0: none)", true},
    {"--partition-duration", "MS", "Random outages: mean length in milliseconds", true},
    {"--time-limit", "S", "Virtual seconds a run may take (default 0: 600 + 4x the transfer at the rate)", false},
};

struct SimArgs {
  std::map<std::string, std::string> knobs;  // flag -> text, for the flags given
  std::map<std::string, CLI::Option*> options;
  std::string pcap;
  CLI::Option* pcap_option = nullptr;
  bool json = false;
  std::uint64_t sweep = 0;
  CLI::Option* sweep_option = nullptr;
};

int usage_exit(const std::string& message) {
  std::cerr << "tapstack sim: " << message << "\n";
  return kExitUsage;
}

std::string fixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

std::string seconds_text(Duration d) { return fixed(d.seconds_f(), 6) + " s"; }

std::string faults_text(const sim::TransferKnobs& k) {
  std::string out = "loss " + sim::format_double(k.loss) + ", reorder " + sim::format_double(k.reorder) +
                    ", duplicate " + sim::format_double(k.duplicate) + ", corrupt " + sim::format_double(k.corrupt) +
                    ", delay " + sim::format_double(k.delay_ms) + " ms, jitter " + sim::format_double(k.jitter_ms) +
                    " ms, rate " + (k.rate_mbit == 0 ? std::string("unlimited") : sim::format_double(k.rate_mbit) + " Mbit/s") +
                    ", mtu " + std::to_string(k.mtu);
  if (k.partition_interval_ms > 0) {
    out += ", outages every " + sim::format_double(k.partition_interval_ms) + " ms for " +
           sim::format_double(k.partition_duration_ms) + " ms (means)";
  }
  return out;
}

void print_text(const sim::TransferKnobs& k, const sim::TransferResult& r, const std::string& pcap) {
  std::cout << "tapstack sim: seed " << k.seed << ", " << k.connections << " connection"
            << (k.connections == 1 ? "" : "s") << " x " << k.bytes << " bytes, echoed back by the server\n";
  std::cout << "link: " << faults_text(k) << "\n";
  std::size_t complete = 0;
  for (const sim::ConnectionResult& c : r.connections) {
    complete += c.complete ? 1 : 0;
  }
  std::cout << "transfers: " << complete << " of " << k.connections << " complete byte-exact\n";
  for (std::size_t i = 0; i < r.connections.size(); ++i) {
    const sim::ConnectionResult& c = r.connections[i];
    if (c.complete) {
      continue;
    }
    std::cout << "  connection " << (i + 1) << ": " << c.error << " (sent " << c.sent << ", verified " << c.verified;
    if (c.mismatch_offset) {
      std::cout << ", first mismatch at " << *c.mismatch_offset;
    }
    std::cout << ")\n";
  }
  std::cout << "virtual duration: " << seconds_text(r.duration) << " (limit " << seconds_text(r.time_limit) << ")\n";
  std::cout << "goodput: " << fixed(r.goodput_bits_per_second / 1e6, 3) << " Mbit/s (" << r.bytes_verified
            << " echoed bytes verified)\n";
  std::cout << "retransmissions: "
            << (r.retransmissions ? std::to_string(*r.retransmissions) : std::string("not counted by the stack"))
            << "\n";
  std::cout << "frames: " << r.frames_sent << " sent, " << r.frames_dropped << " dropped, " << r.frames_reordered
            << " reordered, " << r.frames_duplicated << " duplicated, " << r.frames_corrupted << " corrupted\n";
  std::cout << "closed: " << (r.all_closed ? "every connection in CLOSED or TIME-WAIT" : "NO, connections left open")
            << " (TIME-WAIT: client " << r.client_time_wait << ", server " << r.server_time_wait << ")\n";
  if (!pcap.empty()) {
    std::cout << "pcap: " << pcap << " (the client's port)\n";
  }
  if (r.ok) {
    std::cout << "result: ok\n";
  } else {
    std::cout << "result: FAILED: " << r.failure << "\n";
    std::cout << "replay: " << r.replay << "\n";
  }
}

nlohmann::ordered_json knobs_json(const sim::TransferKnobs& k) {
  nlohmann::ordered_json j;
  j["loss"] = k.loss;
  j["reorder"] = k.reorder;
  j["duplicate"] = k.duplicate;
  j["corrupt"] = k.corrupt;
  j["delay_ms"] = k.delay_ms;
  j["jitter_ms"] = k.jitter_ms;
  j["rate_mbit"] = k.rate_mbit;
  j["mtu"] = k.mtu;
  j["partition_interval_ms"] = k.partition_interval_ms;
  j["partition_duration_ms"] = k.partition_duration_ms;
  return j;
}

nlohmann::ordered_json result_json(const sim::TransferKnobs& k, const sim::TransferResult& r, const std::string& pcap) {
  nlohmann::ordered_json j;
  j["seed"] = k.seed;
  j["connections"] = k.connections;
  j["bytes"] = k.bytes;
  j["direction"] = "echo";
  j["faults"] = knobs_json(k);
  j["ok"] = r.ok;
  j["failure"] = r.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.failure);
  j["virtual_duration_s"] = r.duration.seconds_f();
  j["time_limit_s"] = r.time_limit.seconds_f();
  j["goodput_bits_per_second"] = r.goodput_bits_per_second;
  j["bytes_verified"] = r.bytes_verified;
  j["retransmissions"] = r.retransmissions ? nlohmann::ordered_json(*r.retransmissions) : nlohmann::ordered_json(nullptr);
  j["frames"] = {{"sent", r.frames_sent},
                 {"dropped", r.frames_dropped},
                 {"reordered", r.frames_reordered},
                 {"duplicated", r.frames_duplicated},
                 {"corrupted", r.frames_corrupted}};
  j["all_closed"] = r.all_closed;
  j["time_wait"] = {{"client", r.client_time_wait}, {"server", r.server_time_wait}};
  j["server_accepted"] = r.server_accepted;
  j["server_errors"] = r.server_errors;
  auto& per = j["per_connection"] = nlohmann::ordered_json::array();
  for (const sim::ConnectionResult& c : r.connections) {
    nlohmann::ordered_json cj;
    cj["sent"] = c.sent;
    cj["verified"] = c.verified;
    cj["complete"] = c.complete;
    cj["mismatch_offset"] = c.mismatch_offset ? nlohmann::ordered_json(*c.mismatch_offset) : nlohmann::ordered_json(nullptr);
    cj["error"] = c.complete ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(c.error);
    cj["finished_s"] = c.finished ? nlohmann::ordered_json(c.finished->seconds_f()) : nlohmann::ordered_json(nullptr);
    cj["retransmissions"] = c.retransmissions;
    per.push_back(std::move(cj));
  }
  j["events"] = r.events;
  j["stop"] = sim::to_string(r.stop);
  j["pcap"] = pcap.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(pcap);
  j["replay"] = r.replay;
  return j;
}

int run_sweep_mode(const sim::TransferKnobs& k, const SimArgs& a) {
  sim::SweepConfig config;
  config.first_seed = k.seed;
  config.count = a.sweep;
  config.connections = a.options.at("--connections")->count() > 0 ? k.connections : config.connections;
  config.bytes = a.options.at("--bytes")->count() > 0 ? k.bytes : config.bytes;
  config.time_limit_s = k.time_limit_s;
  // Failures are printed as they happen: a long sweep shows them before it ends.
  const sim::SweepResult result =
      sim::run_sweep(config, [&a](const sim::TransferKnobs& knobs, const sim::TransferResult& r) {
        if (!r.ok && !a.json) {
          std::cout << sim::failure_line(sim::SweepFailure{knobs.seed, r.failure, r.replay}) << std::endl;
        }
      });
  if (a.json) {
    nlohmann::ordered_json j;
    j["first_seed"] = config.first_seed;
    j["seeds"] = result.runs;
    j["connections"] = config.connections;
    j["bytes"] = config.bytes;
    j["passed"] = result.passed;
    j["failed"] = result.failures.size();
    j["events"] = result.events;
    j["virtual_time_s"] = result.virtual_time.seconds_f();
    j["retransmissions"] = result.retransmissions;
    j["frames_dropped"] = result.frames_dropped;
    auto& failures = j["failures"] = nlohmann::ordered_json::array();
    for (const sim::SweepFailure& f : result.failures) {
      failures.push_back({{"seed", f.seed}, {"failure", f.failure}, {"replay", f.replay}});
    }
    std::cout << j.dump() << "\n";
  } else {
    std::cout << sim::tally_line(config, result) << "\n";
  }
  return result.failures.empty() ? kExitOk : kExitFailure;
}

int run_sim(const SimArgs& a) {
  sim::TransferKnobs knobs;
  sim::OptionTable table;
  sim::bind_transfer_options(table, knobs);
  std::vector<std::string> args;
  for (const KnobFlag& f : kKnobFlags) {
    if (a.options.at(f.flag)->count() > 0) {
      args.push_back(std::string(f.flag) + "=" + a.knobs.at(f.flag));
    }
  }
  const std::vector<std::string_view> views(args.begin(), args.end());
  if (auto parsed = table.parse(views); !parsed.ok()) {
    return usage_exit(parsed.error());
  }
  if (a.sweep_option->count() > 0) {
    if (a.sweep == 0) {
      return usage_exit("--sweep: expected COUNT >= 1 seeds, got 0");
    }
    for (const KnobFlag& f : kKnobFlags) {
      if (f.fault && a.options.at(f.flag)->count() > 0) {
        return usage_exit(std::string(f.flag) + ": not allowed with --sweep (each seed derives its own fault mix)");
      }
    }
    if (a.pcap_option->count() > 0) {
      return usage_exit("--pcap: not allowed with --sweep (replay a failing seed with --pcap instead)");
    }
    if (auto ok = sim::validate(knobs); !ok.ok()) {
      return usage_exit(ok.error());
    }
    return run_sweep_mode(knobs, a);
  }
  if (auto ok = sim::validate(knobs); !ok.ok()) {
    return usage_exit(ok.error());
  }
  if (a.pcap_option->count() > 0 && a.pcap.empty()) {
    return usage_exit("--pcap: expected a FILE path, got an empty one");
  }
  const sim::TransferResult result = sim::run_transfer(knobs, a.pcap);
  if (!result.ok && result.connections.empty()) {
    // Nothing ran: the world could not be built (the pcap file, in practice).
    return usage_exit((a.pcap.empty() ? std::string() : std::string("--pcap: ")) + result.failure);
  }
  if (a.json) {
    std::cout << result_json(knobs, result, a.pcap).dump() << "\n";
    if (!result.ok) {
      std::cerr << "replay: " << result.replay << "\n";
    }
  } else {
    print_text(knobs, result, a.pcap);
  }
  return result.ok ? kExitOk : kExitFailure;
}

}  // namespace

void register_sim(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<SimArgs>();
  auto* cmd = app.add_subcommand(
      "sim",
      "Run K TCP connections between two stacks on a simulated Ethernet segment with faults, in virtual time; "
      "the server echoes every byte back and the client checks each one. Deterministic: the same flags give "
      "the same output and pcap.");
  for (const KnobFlag& f : kKnobFlags) {
    args->options[f.flag] = cmd->add_option(f.flag, args->knobs[f.flag], f.help)->type_name(f.type);
  }
  args->pcap_option =
      cmd->add_option("--pcap", args->pcap, "Record the client's frames (both directions) to FILE, virtual timestamps")
          ->type_name("FILE");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  args->sweep_option =
      cmd->add_option("--sweep", args->sweep,
                      "Run COUNT seeds from --seed, each with a fault mix derived from the seed; print a line per "
                      "failure with its replay command, then a tally (--connections 3 --bytes 40000 by default)")
          ->type_name("COUNT");
  cmd->callback([args, &exit_code] { exit_code = run_sim(*args); });
}

}  // namespace tapstack::tools
