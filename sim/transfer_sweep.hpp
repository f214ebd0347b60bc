#pragma once
// A seed sweep of the TCP transfer scenario (sim/tcp_transfer.hpp): for each
// seed, a fault mix derived from the seed alone, K connections of N bytes
// echoed both ways, every byte checked, every connection closed. Used by
// `tapstack sim --sweep COUNT` (ci/sweep) and by the tcp_sweep_test ctest
// (500 seeds in ci/test).
//
// The mix is expressed in the command line's knobs (TransferKnobs), so a
// failing seed's replay line (`tapstack sim --seed=N --loss=... --connections=K
// --bytes=N`) repeats exactly that run on its own. Each knob is drawn from its
// own stream, derive_seed(seed, stream_id("sweep/<knob>")), with values on
// round grids so replay lines stay readable:
//
//   loss       80%: 0..0.2 in steps of 0.001         (else none)
//   reorder    50%: 0..0.1                           (held back 5 ms)
//   duplicate  40%: 0..0.05
//   corrupt    40%: 0..0.05                          (one bit per corrupted frame)
//   delay      one of 0.1, 0.5, 1, 2, 5, 10, 20 ms
//   jitter     40%: 0..delay in steps of 0.1 ms
//   rate       40%: one of 1, 2, 5, 10, 50, 100 Mbit/s (else unlimited)
//   partitions 25%: short random outages, mean up time one of 2, 5, 10 s and
//                   mean length one of 20, 50, 100, 200 ms (down at most 9%)
//   mtu        20%: one of 576, 1280, 9000 (else 1500)

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/tcp_transfer.hpp"
#include "stack/base/time.hpp"

namespace tapstack::sim {

struct SweepConfig {
  std::uint64_t first_seed = 1;
  std::uint64_t count = 500;
  std::uint64_t connections = 3;   // K per seed
  std::uint64_t bytes = 40000;     // N per connection, each way (not a multiple of any MSS)
  double time_limit_s = 0;         // per run; 0: the scenario's default
};

// The knobs of seed `seed` (see the table above).
TransferKnobs sweep_knobs(std::uint64_t seed, std::uint64_t connections, std::uint64_t bytes,
                          double time_limit_s = 0);

struct SweepFailure {
  std::uint64_t seed = 0;
  std::string failure;  // TransferResult::failure
  std::string replay;   // the command line that repeats the run
};

struct SweepResult {
  std::uint64_t runs = 0;
  std::uint64_t passed = 0;
  std::vector<SweepFailure> failures;
  std::uint64_t events = 0;                 // simulator events over all runs
  Duration virtual_time = Duration::zero();  // sum of the runs' durations
  std::uint64_t retransmissions = 0;        // over all runs (0 when the stack counts none)
  std::uint64_t frames_dropped = 0;
};

// Runs seeds first_seed .. first_seed + count - 1 in order; `on_run` (optional)
// sees each run as it finishes.
SweepResult run_sweep(const SweepConfig& config,
                      const std::function<void(const TransferKnobs&, const TransferResult&)>& on_run = nullptr);

// "seed 17 FAILED: <reason> | replay: tapstack sim --seed=17 ...": one line.
std::string failure_line(const SweepFailure& failure);
// "sweep: 500 seeds (1..500), 498 passed, 2 failed".
std::string tally_line(const SweepConfig& config, const SweepResult& result);

}  // namespace tapstack::sim
