#include "sim/replay.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace tapstack::sim {
namespace {

struct Unit_ {
  std::string_view suffix;
  std::int64_t ns;
};
// Largest first: format_duration picks the first that divides exactly.
constexpr Unit_ kUnits[] = {{"s", 1'000'000'000}, {"ms", 1'000'000}, {"us", 1'000}, {"ns", 1}};

std::string value_error(std::string_view flag, std::string_view expected, std::string_view text) {
  return std::string(flag) + ": expected " + std::string(expected) + ", got \"" + std::string(text) + "\"";
}

}  // namespace

std::string format_double(double value) {
  char text[64];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  if (ec != std::errc{}) {
    std::abort();  // 64 characters hold any double
  }
  return std::string(text, end);
}

std::string format_duration(Duration value) {
  const std::int64_t ns = value.ns();
  if (ns == 0) {
    return "0";
  }
  for (const Unit_& unit : kUnits) {
    if (ns % unit.ns == 0) {
      return std::to_string(ns / unit.ns) + std::string(unit.suffix);
    }
  }
  return std::to_string(ns) + "ns";
}

Result<Duration, std::string> parse_duration(std::string_view text) {
  if (text == "0") {
    return Duration::zero();
  }
  std::int64_t count = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(begin, end, count);
  if (ec != std::errc{} || rest == begin || count < 0) {
    return fail(std::string("a non-negative integer with a unit (ns, us, ms, s)"));
  }
  const std::string_view suffix(rest, static_cast<std::size_t>(end - rest));
  for (const Unit_& unit : kUnits) {
    if (suffix == unit.suffix) {
      if (count > INT64_MAX / unit.ns) {
        return fail(std::string("a duration below 2^63 ns"));
      }
      return Duration::nanoseconds(count * unit.ns);
    }
  }
  return fail(std::string("a unit of ns, us, ms or s after the number"));
}

std::string shell_quote(std::string_view word) {
  bool plain = !word.empty();
  for (const char c : word) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '.' || c == '/' || c == ':' || c == '=' || c == ',' || c == '+' || c == '-';
    plain = plain && safe;
  }
  if (plain) {
    return std::string(word);
  }
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

// ---- OptionTable ----

void OptionTable::add_binding(std::string flag, std::string help, std::function<std::string()> render,
                              std::function<Result<Unit, std::string>(std::string_view)> parse, bool is_bool) {
  if (flag.size() < 3 || flag.rfind("--", 0) != 0 || flag.find('=') != std::string::npos || find(flag) != nullptr) {
    std::abort();  // a programming error in the table, not user input
  }
  std::string default_text = render();
  bindings_.push_back(
      Binding{std::move(flag), std::move(help), std::move(default_text), std::move(render), std::move(parse), is_bool});
}

Result<std::uint64_t, std::string> OptionTable::parse_unsigned(std::string_view flag, std::string_view text,
                                                               std::uint64_t max) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || rest != end || text.empty()) {
    return fail(value_error(flag, "a non-negative integer", text));
  }
  if (value > max) {
    return fail(value_error(flag, "an integer of at most " + std::to_string(max), text));
  }
  return value;
}

void OptionTable::add(std::string flag, double& value, std::string help) {
  const std::string name = flag;
  add_binding(std::move(flag), std::move(help), [&value] { return format_double(value); },
              [&value, name](std::string_view text) -> Result<Unit, std::string> {
                double parsed = 0;
                const char* end = text.data() + text.size();
                const auto [rest, ec] = std::from_chars(text.data(), end, parsed);
                if (ec != std::errc{} || rest != end || text.empty() || !std::isfinite(parsed)) {
                  return fail(value_error(name, "a finite number", text));
                }
                value = parsed;
                return Unit{};
              },
              false);
}

void OptionTable::add(std::string flag, Duration& value, std::string help) {
  const std::string name = flag;
  add_binding(std::move(flag), std::move(help), [&value] { return format_duration(value); },
              [&value, name](std::string_view text) -> Result<Unit, std::string> {
                auto parsed = parse_duration(text);
                if (!parsed.ok()) {
                  return fail(value_error(name, parsed.error(), text));
                }
                value = *parsed;
                return Unit{};
              },
              false);
}

void OptionTable::add(std::string flag, std::string& value, std::string help) {
  add_binding(std::move(flag), std::move(help), [&value] { return value; },
              [&value](std::string_view text) -> Result<Unit, std::string> {
                value = std::string(text);
                return Unit{};
              },
              false);
}

void OptionTable::add(std::string flag, bool& value, std::string help) {
  const std::string name = flag;
  add_binding(std::move(flag), std::move(help), [&value] { return std::string(value ? "true" : "false"); },
              [&value, name](std::string_view text) -> Result<Unit, std::string> {
                if (text == "true") {
                  value = true;
                } else if (text == "false") {
                  value = false;
                } else {
                  return fail(value_error(name, "true or false", text));
                }
                return Unit{};
              },
              true);
}

void OptionTable::add(std::string flag, std::vector<Partition>& value, std::string help) {
  const std::string name = flag;
  auto render = [&value] {
    std::string text;
    for (const Partition& p : value) {
      if (!text.empty()) {
        text += ',';
      }
      text += format_duration(p.start.since_epoch()) + "-" + format_duration(p.end.since_epoch());
    }
    return text;
  };
  auto parse = [&value, name](std::string_view text) -> Result<Unit, std::string> {
    std::vector<Partition> parsed;
    constexpr std::string_view kExpected = "START-END[,START-END...] with durations such as 100ms-200ms";
    std::size_t at = 0;
    // Bounded: each round consumes at least one character.
    while (at < text.size()) {
      std::size_t comma = text.find(',', at);
      if (comma == std::string_view::npos) {
        comma = text.size();
      }
      const std::string_view window = text.substr(at, comma - at);
      const std::size_t dash = window.find('-');
      if (dash == std::string_view::npos) {
        return fail(value_error(name, kExpected, text));
      }
      auto start = parse_duration(window.substr(0, dash));
      auto end = parse_duration(window.substr(dash + 1));
      if (!start.ok() || !end.ok()) {
        return fail(value_error(name, kExpected, text));
      }
      parsed.push_back(Partition{Instant::epoch() + *start, Instant::epoch() + *end});
      at = comma + 1;
    }
    value = std::move(parsed);
    return Unit{};
  };
  add_binding(std::move(flag), std::move(help), render, parse, false);
}

const OptionTable::Binding* OptionTable::find(std::string_view flag) const {
  for (const Binding& b : bindings_) {
    if (b.flag == flag) {
      return &b;
    }
  }
  return nullptr;
}

Result<Unit, std::string> OptionTable::parse(std::span<const std::string_view> args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    const std::size_t eq = arg.find('=');
    const std::string_view flag = arg.substr(0, eq);
    const Binding* binding = find(flag);
    if (binding == nullptr) {
      return fail("unknown option " + std::string(flag) + " (--help lists the options)");
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (binding->is_bool) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return fail(std::string(flag) + ": missing value");
    }
    if (auto parsed = binding->parse(value); !parsed.ok()) {
      return parsed;
    }
  }
  return Unit{};
}

Result<Unit, std::string> OptionTable::parse(int argc, const char* const* argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  return parse(args);
}

std::vector<std::string> OptionTable::changed() const {
  std::vector<std::string> out;
  for (const Binding& b : bindings_) {
    std::string text = b.render();
    if (text != b.default_text) {
      out.push_back(b.flag + "=" + text);
    }
  }
  return out;
}

std::string OptionTable::command_line(std::string_view program, std::span<const std::string_view> always) const {
  std::string line = shell_quote(program);
  for (const Binding& b : bindings_) {
    std::string text = b.render();
    bool forced = false;
    for (const std::string_view flag : always) {
      forced = forced || flag == b.flag;
    }
    if (forced || text != b.default_text) {
      line += ' ';
      line += shell_quote(b.flag + "=" + text);
    }
  }
  return line;
}

std::string OptionTable::help() const {
  std::string out;
  for (const Binding& b : bindings_) {
    out += "  " + b.flag + "  (default: " + (b.default_text.empty() ? std::string("none") : b.default_text) +
           ")  " + b.help + "\n";
  }
  return out;
}

void bind_fault_options(OptionTable& table, std::string_view prefix, LinkFaults& f, std::string_view help_prefix) {
  const std::string p(prefix);
  const std::string h(help_prefix);
  table.add(p + "loss-probability", f.loss_probability, h + "independent loss per frame");
  table.add(p + "burst-enter-probability", f.burst_enter_probability, h + "Gilbert-Elliott P(good -> bad)");
  table.add(p + "burst-exit-probability", f.burst_exit_probability, h + "Gilbert-Elliott P(bad -> good)");
  table.add(p + "burst-loss-probability", f.burst_loss_probability, h + "loss probability in the bad state");
  table.add(p + "delay-one-way", f.delay_one_way, h + "base one-way delay");
  table.add(p + "jitter-max", f.jitter_max, h + "uniform extra delay, order kept");
  table.add(p + "reorder-probability", f.reorder_probability, h + "per copy: held back by reorder-delay");
  table.add(p + "reorder-delay", f.reorder_delay, h + "extra delay of a reordered copy");
  table.add(p + "duplicate-probability", f.duplicate_probability, h + "per frame: delivered twice");
  table.add(p + "corrupt-probability", f.corrupt_probability, h + "per copy: bits flipped");
  table.add(p + "corrupt-bits-max", f.corrupt_bits_max, h + "bits flipped: 1..this");
  table.add(p + "rate-bits-per-second", f.rate_bits_per_second, h + "serialisation rate; 0: unlimited");
  table.add(p + "queue-bytes-max", f.queue_bytes_max, h + "rate limiter queue bound (tail drop)");
  table.add(p + "mtu", f.mtu, h + "IP MTU; longer frames dropped");
  table.add(p + "partitions", f.partitions, h + "scheduled outages START-END,...");
  table.add(p + "partition-interval-mean", f.partition_interval_mean, h + "random outages: mean up time; 0: none");
  table.add(p + "partition-duration-mean", f.partition_duration_mean, h + "random outages: mean down time");
}

}  // namespace tapstack::sim
