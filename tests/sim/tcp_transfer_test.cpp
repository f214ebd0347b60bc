// The TCP transfer scenario (sim/tcp_transfer.hpp): two whole stacks on a
// simulated segment, K connections echoing N seeded random bytes, every byte
// checked, every connection closed. Fault-free and lossy transfers complete
// byte-exact; the same configuration gives the same result and the same pcap
// bytes, a different seed a different run; a transfer that cannot complete
// is reported as failed with the command line that replays it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sim/replay.hpp"
#include "sim/tcp_transfer.hpp"
#include "sim/transfer_sweep.hpp"

namespace tapstack::sim {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("tcp_transfer_test_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Runs the knobs and reports a failure with everything needed to replay it.
TransferResult run_checked(const TransferKnobs& knobs, const std::string& pcap = {}) {
  TransferResult r = run_transfer(knobs, pcap);
  std::cout << "seed " << knobs.seed << ": " << (r.ok ? "ok" : "FAILED") << ", " << r.bytes_verified
            << " bytes verified in " << r.duration.seconds_f() << " s virtual, " << r.frames_sent << " frames, "
            << r.frames_dropped << " dropped, retransmissions "
            << (r.retransmissions ? std::to_string(*r.retransmissions) : std::string("n/a")) << "\n";
  EXPECT_TRUE(r.ok) << r.failure << "\nreplay: " << r.replay;
  return r;
}

void expect_complete(const TransferKnobs& knobs, const TransferResult& r) {
  ASSERT_EQ(r.connections.size(), knobs.connections);
  for (std::size_t i = 0; i < r.connections.size(); ++i) {
    const ConnectionResult& c = r.connections[i];
    EXPECT_TRUE(c.complete) << "connection " << i + 1 << ": " << c.error;
    EXPECT_EQ(c.sent, knobs.bytes) << "connection " << i + 1;
    EXPECT_EQ(c.verified, knobs.bytes) << "connection " << i + 1;
    EXPECT_FALSE(c.mismatch_offset.has_value()) << "connection " << i + 1;
    EXPECT_TRUE(c.finished.has_value());
  }
  EXPECT_EQ(r.bytes_verified, knobs.bytes * knobs.connections);
  EXPECT_TRUE(r.all_closed);
  EXPECT_EQ(r.server_accepted, knobs.connections);
  EXPECT_EQ(r.server_errors, 0u);
  EXPECT_EQ(r.stop, RunStop::Done);
}

TEST(TcpTransfer, FaultFreeTransferIsByteExactAndCloses) {
  TransferKnobs k;
  k.connections = 2;
  k.bytes = 300'000;  // beyond the 256 KiB send buffer: tcp_send takes it in parts
  const TransferResult r = run_checked(k);
  expect_complete(k, r);
  EXPECT_EQ(r.frames_dropped, 0u);
  EXPECT_EQ(r.frames_reordered + r.frames_duplicated + r.frames_corrupted, 0u);
  if (r.retransmissions) {
    EXPECT_EQ(*r.retransmissions, 0u) << "nothing was lost, nothing needs sending twice";
  }
  // The client closes first (its FIN follows its data), so its side waits in TIME-WAIT; the
  // server's close ends in CLOSED (RFC 9293 3.6).
  EXPECT_EQ(r.client_time_wait, 2u);
  EXPECT_EQ(r.server_time_wait, 0u);
  EXPECT_GT(r.goodput_bits_per_second, 0.0);
  EXPECT_GT(r.duration, Duration::zero());
  EXPECT_TRUE(r.failure.empty());
}

TEST(TcpTransfer, SmallAndJumboMtus) {
  for (std::uint64_t mtu : {576u, 9000u}) {
    TransferKnobs k;
    k.mtu = mtu;
    k.bytes = 100'000;
    SCOPED_TRACE("mtu " + std::to_string(mtu));
    expect_complete(k, run_checked(k));
  }
}

TEST(TcpTransfer, ZeroBytesStillOpensAndCloses) {
  TransferKnobs k;
  k.bytes = 0;
  k.connections = 3;
  expect_complete(k, run_checked(k));
}

TEST(TcpTransfer, LossyTransfersCompleteByteExact) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    TransferKnobs k;
    k.seed = seed;
    k.connections = 3;
    k.bytes = 64 * 1024;
    k.loss = 0.05;
    k.reorder = 0.05;
    k.duplicate = 0.02;
    k.corrupt = 0.02;
    k.jitter_ms = 0.5;
    SCOPED_TRACE("seed " + std::to_string(seed));
    const TransferResult r = run_checked(k);
    expect_complete(k, r);
    EXPECT_GT(r.frames_dropped, 0u);
    if (r.retransmissions) {
      EXPECT_GT(*r.retransmissions, 0u) << "frames were lost: something had to be sent again";
    }
  }
}

TEST(TcpTransfer, RateLimitAndOutages) {
  TransferKnobs k;
  k.seed = 5;
  k.connections = 2;
  k.bytes = 100'000;
  k.rate_mbit = 2;
  k.partition_interval_ms = 500;
  k.partition_duration_ms = 50;
  const TransferResult r = run_checked(k);
  expect_complete(k, r);
  // 2 x 100 kB each way at 2 Mbit/s: at least 0.8 s of serialisation.
  EXPECT_GE(r.duration, Duration::milliseconds(800));
  EXPECT_LE(r.goodput_bits_per_second, 2e6);
}

TEST(TcpTransfer, SameConfigSameResultAndPcapBytes) {
  TempDir dir;
  TransferKnobs k;
  k.seed = 42;
  k.connections = 2;
  k.bytes = 50'000;
  k.loss = 0.03;
  k.reorder = 0.05;
  k.duplicate = 0.02;
  k.jitter_ms = 1;
  const TransferResult a = run_transfer(k, (dir / "a.pcap").string());
  const TransferResult b = run_transfer(k, (dir / "b.pcap").string());
  EXPECT_TRUE(a.ok) << a.failure;
  EXPECT_EQ(a, b);
  const std::string pcap_a = read_file(dir / "a.pcap");
  const std::string pcap_b = read_file(dir / "b.pcap");
  EXPECT_GT(pcap_a.size(), 24u + 100'000u) << "the pcap holds every frame of both directions";
  EXPECT_TRUE(pcap_a == pcap_b) << "same configuration, different pcap bytes";

  TransferKnobs other = k;
  other.seed = 43;
  const TransferResult c = run_transfer(other, (dir / "c.pcap").string());
  EXPECT_TRUE(c.ok) << c.failure;
  EXPECT_NE(read_file(dir / "c.pcap"), pcap_a);
  EXPECT_FALSE(c.frames_dropped == a.frames_dropped && c.frames_sent == a.frames_sent &&
               c.duration == a.duration && c.events == a.events)
      << "a different seed gave the same run";
}

TEST(TcpTransfer, ImpossibleTransferFailsWithReplayLine) {
  TransferKnobs k;
  k.loss = 1.0;
  k.time_limit_s = 5;
  const TransferResult r = run_transfer(k);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.failure.empty());
  ASSERT_EQ(r.connections.size(), 1u);
  EXPECT_FALSE(r.connections[0].complete);
  EXPECT_EQ(r.connections[0].verified, 0u);
  EXPECT_FALSE(r.connections[0].error.empty());
  EXPECT_EQ(r.bytes_verified, 0u);
  EXPECT_EQ(r.replay, "tapstack sim --seed=1 --loss=1 --time-limit=5");
  EXPECT_LE(r.duration, Duration::seconds(5));
}

TEST(TcpTransfer, ReplayLineParsesBackToTheSameKnobs) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    const TransferKnobs mix = sweep_knobs(seed, 3, 12345, 0);
    const std::string line = replay_command(mix);
    ASSERT_TRUE(line.starts_with("tapstack sim --seed=" + std::to_string(seed))) << line;
    std::vector<std::string> words;
    for (std::size_t pos = std::string("tapstack sim ").size(); pos < line.size();) {
      const std::size_t end = std::min(line.find(' ', pos), line.size());
      words.push_back(line.substr(pos, end - pos));
      pos = end + 1;
    }
    const std::vector<std::string_view> views(words.begin(), words.end());
    TransferKnobs parsed;
    OptionTable table;
    bind_transfer_options(table, parsed);
    ASSERT_TRUE(table.parse(views).ok()) << line;
    EXPECT_EQ(parsed, mix) << line;
    EXPECT_TRUE(validate(mix).ok()) << line << ": " << validate(mix).error();
  }
}

TEST(TcpTransfer, KnobValidationNamesTheFlag) {
  auto error_of = [](auto change) {
    TransferKnobs k;
    change(k);
    const auto r = validate(k);
    return r.ok() ? std::string() : r.error();
  };
  EXPECT_TRUE(error_of([](TransferKnobs&) {}).empty());
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.loss = 1.5; }).starts_with("--loss: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.corrupt = -0.1; }).starts_with("--corrupt: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.delay_ms = -1; }).starts_with("--delay: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.rate_mbit = 1e-9; }).starts_with("--rate: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.mtu = 67; }).starts_with("--mtu: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.connections = 0; }).starts_with("--connections: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.connections = 1001; }).starts_with("--connections: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.partition_interval_ms = 100; }).starts_with("--partition-duration: "));
  EXPECT_TRUE(error_of([](TransferKnobs& k) { k.time_limit_s = -1; }).starts_with("--time-limit: "));
  // Invalid knobs never run: the failure is the validation message.
  TransferKnobs bad;
  bad.loss = 2;
  const TransferResult r = run_transfer(bad);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.connections.empty());
  EXPECT_TRUE(r.failure.starts_with("--loss: ")) << r.failure;
}

TEST(TcpTransfer, DefaultTimeLimitGrowsWithBytesAndRate) {
  TransferConfig c;
  c.bytes = 0;
  EXPECT_EQ(default_time_limit(c), Duration::seconds(600));
  c.bytes = 1'000'000;
  c.connections = 2;
  // 16 Mbit at the 1 Mbit/s floor, four times over.
  EXPECT_EQ(default_time_limit(c), Duration::seconds(600 + 64));
  c.client_to_server.rate_bits_per_second = 100'000;
  EXPECT_EQ(default_time_limit(c), Duration::seconds(600 + 640));
}

}  // namespace
}  // namespace tapstack::sim
