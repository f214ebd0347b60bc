// Determinism and replay: the same seed and options give the same run to the
// byte (pcap and event log), a different seed a different one, and a failing
// scenario prints the one command line that replays it exactly. (Across
// processes: determinism_test.sh, with tests/sim/sim_probe.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sim/replay.hpp"
#include "sim/test_hosts.hpp"

namespace tapstack::sim {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class DeterminismTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const std::string& path : files_) {
      std::filesystem::remove(path);
    }
  }
  std::string temp(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    files_.push_back((std::filesystem::path(::testing::TempDir()) /
                      (std::string("tapstack_determinism_") + info->name() + "_" + std::to_string(::getpid()) + "_" +
                       name))
                         .string());
    return files_.back();
  }
  // Runs the standard scenario recording to fresh files; returns (pcap, log).
  std::pair<std::string, std::string> run(ScenarioOptions options, const std::string& tag) {
    options.pcap_path = temp(tag + ".pcap");
    options.log_path = temp(tag + ".log");
    options.log_to_memory = true;
    const ScenarioResult result = run_scenario(options);
    EXPECT_TRUE(result.ok) << result.failure << "\n" << result.summary << result.counters;
    EXPECT_EQ(read_file(options.log_path), result.log);
    return {read_file(options.pcap_path), result.log};
  }
  std::vector<std::string> files_;
};

TEST_F(DeterminismTest, TheSameSeedGivesByteIdenticalPcapAndLog) {
  ScenarioOptions options;
  options.seed = 2024;
  const auto first = run(options, "first");
  const auto second = run(options, "second");
  ASSERT_GT(first.first.size(), 100'000u);
  ASSERT_GT(first.second.size(), 100'000u);
  EXPECT_TRUE(first.first == second.first) << "pcap files differ";
  EXPECT_TRUE(first.second == second.second) << "event logs differ";
}

TEST_F(DeterminismTest, ADifferentSeedGivesADifferentRun) {
  ScenarioOptions options;
  options.seed = 2024;
  const auto first = run(options, "first");
  options.seed = 2025;
  const auto other = run(options, "other");
  EXPECT_NE(first.first, other.first);
  EXPECT_NE(first.second, other.second);
}

TEST_F(DeterminismTest, EveryFaultKindHappensInTheScenario) {
  ScenarioOptions options;
  options.log_to_memory = true;
  const ScenarioResult result = run_scenario(options);
  ASSERT_TRUE(result.ok) << result.failure;
  for (const char* event : {" dropped ", " duplicated ", " corrupted ", " reordered", " delivered ", " switch "}) {
    EXPECT_NE(result.log.find(event), std::string::npos) << event;
  }
  for (const char* reason : {"reason=loss", "reason=burst_loss", "reason=partitioned"}) {
    EXPECT_NE(result.log.find(reason), std::string::npos) << reason;
  }
}

TEST_F(DeterminismTest, ManySeedsPass) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    ScenarioOptions options;
    options.seed = seed;
    options.flood_frames = 300;
    const ScenarioResult result = run_scenario(options);
    OptionTable table;
    bind_scenario_options(table, options);
    EXPECT_TRUE(result.ok) << result.failure << "\nreplay: " << table.command_line("sim_probe");
  }
}

// ---- replay ----

TEST(Replay, DoublesAndDurationsAreWrittenExactly) {
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(format_double(1e-300), "1e-300");
  EXPECT_EQ(format_duration(Duration::zero()), "0");
  EXPECT_EQ(format_duration(Duration::seconds(2)), "2s");
  EXPECT_EQ(format_duration(Duration::microseconds(1500)), "1500us");
  EXPECT_EQ(format_duration(Duration::nanoseconds(1'000'000'001)), "1000000001ns");
  EXPECT_EQ(*parse_duration("1500us"), Duration::microseconds(1500));
  EXPECT_EQ(*parse_duration("0"), Duration::zero());
  EXPECT_FALSE(parse_duration("5").ok());
  EXPECT_FALSE(parse_duration("5min").ok());
  EXPECT_FALSE(parse_duration("-5ms").ok());
  EXPECT_FALSE(parse_duration("99999999999s").ok());
}

TEST(Replay, ShellQuotingOnlyWhereNeeded) {
  EXPECT_EQ(shell_quote("--seed=7"), "--seed=7");
  EXPECT_EQ(shell_quote("--pcap=/tmp/a b.pcap"), "'--pcap=/tmp/a b.pcap'");
  EXPECT_EQ(shell_quote("--pcap-point=*"), "'--pcap-point=*'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
  EXPECT_EQ(shell_quote(""), "''");
}

TEST(Replay, TheCommandLineHasTheSeedAndOnlyChangedOptions) {
  ScenarioOptions options;
  OptionTable table;
  bind_scenario_options(table, options);
  const std::string_view always[] = {"--seed"};
  EXPECT_EQ(table.command_line("sim_probe", always), "sim_probe --seed=1");
  EXPECT_TRUE(table.changed().empty());
  options.seed = 99;
  options.link.loss_probability = 0.123456789;
  options.lan.jitter_max = Duration::microseconds(7);
  options.lan.partitions = {Partition{Instant::from_ns(1'000'000), Instant::from_ns(2'500'000)}};
  options.pings = 5;
  options.pcap_path = "/tmp/x y.pcap";
  EXPECT_EQ(table.command_line("sim_probe", always),
            "sim_probe --seed=99 --link-loss-probability=0.123456789 --lan-jitter-max=7us "
            "--lan-partitions=1ms-2500us --pings=5 '--pcap=/tmp/x y.pcap'");
}

TEST(Replay, ParsingTheCommandLineRestoresEveryOption) {
  ScenarioOptions original;
  original.seed = 0xfedcba9876543210ULL;
  original.link.loss_probability = 1.0 / 7.0;
  original.link.rate_bits_per_second = 12345;
  original.link.partitions = {Partition{Instant::from_ns(5), Instant::from_ns(7'000'000'000)}};
  original.lan.corrupt_bits_max = 9;
  original.flood_interval = Duration::nanoseconds(333);
  OptionTable table;
  bind_scenario_options(table, original);
  const std::vector<std::string> args = table.changed();

  ScenarioOptions replayed;
  OptionTable replay_table;
  bind_scenario_options(replay_table, replayed);
  std::vector<std::string_view> views(args.begin(), args.end());
  ASSERT_TRUE(replay_table.parse(views).ok());
  EXPECT_EQ(replayed.seed, original.seed);
  EXPECT_EQ(replayed.link, original.link);  // bit-exact doubles included
  EXPECT_EQ(replayed.lan, original.lan);
  EXPECT_EQ(replayed.flood_interval, original.flood_interval);
  EXPECT_EQ(replay_table.changed(), args);
}

TEST(Replay, BadArgumentsAreRejectedNamingTheFlag) {
  ScenarioOptions options;
  OptionTable table;
  bind_scenario_options(table, options);
  auto parse = [&table](std::vector<std::string_view> args) {
    auto r = table.parse(args);
    return r.ok() ? std::string("(ok)") : r.error();
  };
  EXPECT_EQ(parse({"--nope=1"}), "unknown option --nope (--help lists the options)");
  EXPECT_EQ(parse({"--seed=x"}), "--seed: expected a non-negative integer, got \"x\"");
  EXPECT_EQ(parse({"--seed=-1"}), "--seed: expected a non-negative integer, got \"-1\"");
  EXPECT_EQ(parse({"--pings=4294967296"}), "--pings: expected an integer of at most 4294967295, got \"4294967296\"");
  EXPECT_EQ(parse({"--link-loss-probability=nan"}), "--link-loss-probability: expected a finite number, got \"nan\"");
  EXPECT_EQ(parse({"--lan-delay-one-way=5"}).rfind("--lan-delay-one-way: expected ", 0), 0u);
  EXPECT_EQ(parse({"--link-partitions=1ms"}).rfind("--link-partitions: expected START-END", 0), 0u);
  EXPECT_EQ(parse({"--seed"}), "--seed: missing value");
  EXPECT_EQ(parse({"--seed", "5"}), "(ok)");
  EXPECT_EQ(options.seed, 5u);
}

TEST(Replay, OutOfRangeValuesAreRejectedByTheScenarioNamingTheOption) {
  ScenarioOptions options;
  options.link.loss_probability = 1.5;
  const ScenarioResult result = run_scenario(options);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.failure.rfind("link wan: a_to_b.loss_probability: ", 0), 0u) << result.failure;
  options = ScenarioOptions{};
  options.frame_len = 10;
  EXPECT_EQ(run_scenario(options).failure, "ping.frame_len: must be in [28, 65535], got 10");
}

TEST(Replay, AFailingScenarioIsReplayedExactlyByItsCommandLine) {
  // Ping-pong cannot survive a link losing 97% of frames with 3 retries.
  ScenarioOptions failing;
  failing.seed = 77;
  failing.link.loss_probability = 0.97;
  failing.retries_max = 3;
  failing.log_to_memory = true;
  const ScenarioResult first = run_scenario(failing);
  ASSERT_FALSE(first.ok);
  EXPECT_NE(first.failure.find("gave up"), std::string::npos) << first.failure;
  OptionTable table;
  bind_scenario_options(table, failing);
  const std::string_view always[] = {"--seed"};
  const std::string line = table.command_line("sim_probe", always);
  EXPECT_EQ(line, "sim_probe --seed=77 --link-loss-probability=0.97 --retries-max=3");

  // What a user does with the line: parse it into fresh options and run.
  ScenarioOptions replayed;
  replayed.log_to_memory = true;
  OptionTable replay_table;
  bind_scenario_options(replay_table, replayed);
  std::vector<std::string_view> args{"--seed=77", "--link-loss-probability=0.97", "--retries-max=3"};
  ASSERT_TRUE(replay_table.parse(args).ok());
  const ScenarioResult second = run_scenario(replayed);
  EXPECT_EQ(second.failure, first.failure);
  EXPECT_EQ(second.counters, first.counters);
  EXPECT_TRUE(second.log == first.log) << "the replayed run's event log differs";
}

}  // namespace
}  // namespace tapstack::sim
