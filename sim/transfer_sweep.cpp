#include "sim/transfer_sweep.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sim/world.hpp"
#include "stack/base/rng.hpp"

namespace tapstack::sim {

namespace {

// The stream of one knob of one seed's mix.
Rng knob_rng(std::uint64_t seed, std::string_view knob) {
  return Rng(derive_seed(seed, World::stream_id("sweep/" + std::string(knob))));
}

// `steps` + 1 grid points 0, step, 2 step, ... (exact decimals: k / denominator).
double grid(Rng& rng, std::uint64_t steps, double denominator) {
  return static_cast<double>(rng.below(steps + 1)) / denominator;
}

template <class T, std::size_t N>
T pick(Rng& rng, const std::array<T, N>& values) {
  return values[static_cast<std::size_t>(rng.below(N))];
}

}  // namespace

TransferKnobs sweep_knobs(std::uint64_t seed, std::uint64_t connections, std::uint64_t bytes, double time_limit_s) {
  TransferKnobs k;
  k.seed = seed;
  k.connections = connections;
  k.bytes = bytes;
  k.time_limit_s = time_limit_s;
  if (Rng r = knob_rng(seed, "loss"); r.chance(0.8)) {
    k.loss = grid(r, 200, 1000.0);
  }
  if (Rng r = knob_rng(seed, "reorder"); r.chance(0.5)) {
    k.reorder = grid(r, 100, 1000.0);
  }
  if (Rng r = knob_rng(seed, "duplicate"); r.chance(0.4)) {
    k.duplicate = grid(r, 50, 1000.0);
  }
  if (Rng r = knob_rng(seed, "corrupt"); r.chance(0.4)) {
    k.corrupt = grid(r, 50, 1000.0);
  }
  {
    Rng r = knob_rng(seed, "delay");
    k.delay_ms = pick(r, std::array{0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0});
  }
  if (Rng r = knob_rng(seed, "jitter"); r.chance(0.4)) {
    k.jitter_ms = grid(r, static_cast<std::uint64_t>(k.delay_ms * 10.0 + 0.5), 10.0);
  }
  if (Rng r = knob_rng(seed, "rate"); r.chance(0.4)) {
    k.rate_mbit = pick(r, std::array{1.0, 2.0, 5.0, 10.0, 50.0, 100.0});
  }
  if (Rng r = knob_rng(seed, "partition"); r.chance(0.25)) {
    // Short outages: down at most 200 / (2000 + 200) = 9% of the time, on top of the loss.
    k.partition_interval_ms = pick(r, std::array{2000.0, 5000.0, 10000.0});
    k.partition_duration_ms = pick(r, std::array{20.0, 50.0, 100.0, 200.0});
  }
  if (Rng r = knob_rng(seed, "mtu"); r.chance(0.2)) {
    k.mtu = pick(r, std::array<std::uint64_t, 3>{576, 1280, 9000});
  }
  return k;
}

SweepResult run_sweep(const SweepConfig& config,
                      const std::function<void(const TransferKnobs&, const TransferResult&)>& on_run) {
  SweepResult out;
  for (std::uint64_t i = 0; i < config.count; ++i) {
    const TransferKnobs knobs = sweep_knobs(config.first_seed + i, config.connections, config.bytes, config.time_limit_s);
    const TransferResult result = run_transfer(knobs);
    out.runs++;
    out.events += result.events;
    out.virtual_time += result.duration;
    out.retransmissions += result.retransmissions.value_or(0);
    out.frames_dropped += result.frames_dropped;
    if (result.ok) {
      out.passed++;
    } else {
      out.failures.push_back(SweepFailure{knobs.seed, result.failure, result.replay});
    }
    if (on_run) {
      on_run(knobs, result);
    }
  }
  return out;
}

std::string failure_line(const SweepFailure& failure) {
  return "seed " + std::to_string(failure.seed) + " FAILED: " + failure.failure + " | replay: " + failure.replay;
}

std::string tally_line(const SweepConfig& config, const SweepResult& result) {
  std::string line = "sweep: " + std::to_string(result.runs) + " seeds";
  if (result.runs > 0) {
    line += " (" + std::to_string(config.first_seed) + ".." + std::to_string(config.first_seed + result.runs - 1) + ")";
  }
  line += ", " + std::to_string(config.connections) + " connections x " + std::to_string(config.bytes) +
          " bytes each: " + std::to_string(result.passed) + " passed, " + std::to_string(result.failures.size()) +
          " failed";
  return line;
}

}  // namespace tapstack::sim
