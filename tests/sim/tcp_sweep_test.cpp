// The transfer properties in the simulator (issue 5), over a seed sweep: for
// each of 500 seeds, a fault mix derived from the seed (loss up to 20%,
// reordering, duplication, corruption, jitter, rate limits, short outages,
// MTUs; sim/transfer_sweep.hpp), 3 connections each echo 40000 seeded
// random bytes both ways; every byte arrives once and in order and every
// connection reaches CLOSED or TIME-WAIT within the virtual time limit.
// A failing seed prints the `tapstack sim` line that replays it alone.
//
// TAPSTACK_SWEEP_SEEDS=N and TAPSTACK_SWEEP_FIRST=S change the range (ci/sweep
// runs any number through `tapstack sim --sweep`).
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "sim/transfer_sweep.hpp"

namespace tapstack::sim {
namespace {

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::strtoull(text, nullptr, 10) : fallback;
}

TEST(TcpSweep, EveryTransferCompletesUnderEveryFaultMix) {
  SweepConfig config;
  config.first_seed = env_or("TAPSTACK_SWEEP_FIRST", 1);
  config.count = env_or("TAPSTACK_SWEEP_SEEDS", 500);
  const SweepResult result = run_sweep(config);
  for (const SweepFailure& f : result.failures) {
    ADD_FAILURE() << failure_line(f);
  }
  std::cout << tally_line(config, result) << "\n"
            << "  " << result.events << " events, " << result.virtual_time.seconds_f() << " s virtual, "
            << result.retransmissions << " retransmissions, " << result.frames_dropped << " frames dropped\n";
  EXPECT_EQ(result.runs, config.count);
  EXPECT_EQ(result.passed, config.count);
}

// The mix itself: a function of the seed, within the bounds, and
// every kind of fault shows up somewhere in 500 seeds.
TEST(TcpSweep, FaultMixIsBoundedAndCoversEveryFault) {
  std::set<std::uint64_t> mtus;
  int loss = 0, reorder = 0, duplicate = 0, corrupt = 0, jitter = 0, rate = 0, outages = 0, clean = 0;
  for (std::uint64_t seed = 1; seed <= 500; ++seed) {
    const TransferKnobs k = sweep_knobs(seed, 2, 1000);
    EXPECT_EQ(k, sweep_knobs(seed, 2, 1000));
    EXPECT_EQ(k.seed, seed);
    EXPECT_EQ(k.connections, 2u);
    EXPECT_EQ(k.bytes, 1000u);
    EXPECT_LE(k.loss, 0.2);
    EXPECT_LE(k.jitter_ms, k.delay_ms);
    EXPECT_TRUE(validate(k).ok()) << "seed " << seed << ": " << validate(k).error();
    loss += k.loss > 0;
    reorder += k.reorder > 0;
    duplicate += k.duplicate > 0;
    corrupt += k.corrupt > 0;
    jitter += k.jitter_ms > 0;
    rate += k.rate_mbit > 0;
    outages += k.partition_interval_ms > 0;
    clean += k.loss == 0 && k.reorder == 0 && k.duplicate == 0 && k.corrupt == 0 && k.partition_interval_ms == 0;
    mtus.insert(k.mtu);
  }
  for (int count : {loss, reorder, duplicate, corrupt, jitter, rate, outages}) {
    EXPECT_GT(count, 50);
  }
  EXPECT_GT(clean, 0);
  EXPECT_EQ(mtus, (std::set<std::uint64_t>{576, 1280, 1500, 9000}));
  EXPECT_NE(sweep_knobs(1, 2, 1000), sweep_knobs(2, 2, 1000));
}

}  // namespace
}  // namespace tapstack::sim
