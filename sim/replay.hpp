#pragma once
// Failure reporting: the one command line that replays a scenario exactly.
//
// A scenario's options are bound to flags in an OptionTable, which both
// parses a command line into them and renders them back: the seed and every
// option whose value differs from its default, each written so that parsing
// it gives back exactly the same value (doubles in their shortest
// round-tripping form, durations in the largest exact unit). So a failing
// run prints
//
//   replay: sim_probe --seed=7 --link-loss-probability=0.25
//
// and running that line repeats the failure event for event (the simulator
// is deterministic). Flags are written --name=value, quoted for a POSIX shell
// when needed.
//
// Value syntax:
//   integers   decimal digits
//   doubles    decimal or scientific notation, finite
//   durations  an integer with a unit: 1500ns, 20us, 5ms, 2s (0 alone is allowed)
//   booleans   true or false (the flag alone means true)
//   partitions comma-separated START-END pairs of durations since the epoch:
//              100ms-200ms,1s-1500ms (empty: none)

#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/link_faults.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

// The shortest decimal text that parses back to exactly `value` (std::to_chars).
std::string format_double(double value);
// A duration in the largest unit that divides it exactly: "0", "1500ns", "20us", "5ms", "2s".
std::string format_duration(Duration value);
// Parses format_duration's syntax; the error describes what is wrong (without a flag name).
Result<Duration, std::string> parse_duration(std::string_view text);
// `word` quoted for a POSIX shell if it contains anything but [A-Za-z0-9_./:=,+-].
std::string shell_quote(std::string_view word);

class OptionTable {
 public:
  // Binds `flag` ("--seed") to `value`; its current value is the default.
  // The variable must outlive the table.
  template <std::unsigned_integral T>
  void add(std::string flag, T& value, std::string help) {
    const std::string name = flag;
    add_binding(std::move(flag), std::move(help), [&value] { return std::to_string(value); },
                [&value, name](std::string_view text) -> Result<Unit, std::string> {
                  auto parsed = parse_unsigned(name, text, static_cast<std::uint64_t>(T(~T{0})));
                  if (!parsed.ok()) {
                    return fail(parsed.error());
                  }
                  value = static_cast<T>(*parsed);
                  return Unit{};
                },
                false);
  }
  void add(std::string flag, double& value, std::string help);
  void add(std::string flag, Duration& value, std::string help);
  void add(std::string flag, std::string& value, std::string help);
  void add(std::string flag, bool& value, std::string help);
  void add(std::string flag, std::vector<Partition>& value, std::string help);

  // Parses "--flag=value" and "--flag value" arguments (args excludes the
  // program name). Errors name the flag: an unknown flag, a missing value,
  // or a value of the wrong form. Range checks are left to the options'
  // own validate().
  Result<Unit, std::string> parse(std::span<const std::string_view> args);
  // Same, from main()'s arguments (argv[0] is skipped).
  Result<Unit, std::string> parse(int argc, const char* const* argv);

  // "--flag=value" for every option that differs from its default, in the
  // order they were added.
  std::vector<std::string> changed() const;
  // The command line: `program`, then changed(), each quoted for the shell.
  // `always` flags (e.g. "--seed") are written even when at their default.
  std::string command_line(std::string_view program, std::span<const std::string_view> always = {}) const;
  // One line per flag: the flag, its default and its help.
  std::string help() const;

 private:
  struct Binding {
    std::string flag;
    std::string help;
    std::string default_text;  // render() when bound
    std::function<std::string()> render;
    std::function<Result<Unit, std::string>(std::string_view)> parse;
    bool is_bool;
  };
  void add_binding(std::string flag, std::string help, std::function<std::string()> render,
                   std::function<Result<Unit, std::string>(std::string_view)> parse, bool is_bool);
  static Result<std::uint64_t, std::string> parse_unsigned(std::string_view flag, std::string_view text,
                                                           std::uint64_t max);
  const Binding* find(std::string_view flag) const;

  std::vector<Binding> bindings_;
};

// Binds every LinkFaults knob as <prefix><knob with '-' for '_'>, e.g.
// prefix "--link-": --link-loss-probability, --link-delay-one-way, ...
void bind_fault_options(OptionTable& table, std::string_view prefix, LinkFaults& faults,
                        std::string_view help_prefix = {});

}  // namespace tapstack::sim
