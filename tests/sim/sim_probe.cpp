// sim_probe: runs the simulator's standard scenario (sim/test_hosts.hpp:
// ping-pong and a flood over faulty links and over a switched segment) with
// the options given, prints what the hosts did and every counter, and exits
//   0  the scenario passed
//   1  it failed; the last line is the command that replays it exactly
//   2  bad options (a one-line error naming the option)
// determinism_test.sh runs it in separate processes and compares the pcap
// and event log byte for byte.
#include <cstring>
#include <iostream>
#include <string_view>

#include "sim/replay.hpp"
#include "sim/test_hosts.hpp"

int main(int argc, char** argv) {
  using namespace tapstack::sim;
  ScenarioOptions options;
  OptionTable table;
  bind_scenario_options(table, options);
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::cout << "usage: sim_probe [--option=value]...\n" << table.help();
      return 0;
    }
  }
  if (auto parsed = table.parse(argc, argv); !parsed.ok()) {
    std::cerr << "sim_probe: " << parsed.error() << "\n";
    return 2;
  }
  const ScenarioResult result = run_scenario(options);
  const std::string_view always[] = {"--seed"};
  const std::string replay = table.command_line(argv[0], always);
  if (!result.ok && result.summary.empty()) {
    // Nothing ran: the options were rejected when the world was built.
    std::cerr << "sim_probe: " << result.failure << "\n";
    return 2;
  }
  std::cout << "seed " << options.seed << ": " << (result.ok ? "passed" : "FAILED") << " after "
            << result.run.events << " events, virtual time " << format_instant(result.run.now) << " s\n"
            << result.summary << result.counters;
  if (!result.ok) {
    std::cout << "failure: " << result.failure << "\n";
    std::cout << "replay: " << replay << "\n";
    return 1;
  }
  return 0;
}
