// LinkFaults::validate(): every bad option is rejected with a message that
// names it; the boundaries just inside the ranges are accepted.
#include "sim/link_faults.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "sim/fault_model.hpp"

namespace tapstack::sim {
namespace {

// The error message, or "" if the options are valid.
std::string error_of(const LinkFaults& faults) {
  auto r = faults.validate();
  return r.ok() ? std::string{} : r.error();
}

// The message starts with the option's name, so a user reading it knows
// which knob to fix.
void expect_rejected(const LinkFaults& faults, const std::string& option) {
  const std::string message = error_of(faults);
  ASSERT_FALSE(message.empty()) << "accepted, expected an error naming " << option;
  EXPECT_EQ(message.rfind(option + ":", 0), 0u) << message;
}

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

TEST(LinkFaultsValidate, DefaultsAreValid) { EXPECT_EQ(error_of(LinkFaults{}), ""); }

TEST(LinkFaultsValidate, EveryKnobAtAValidExtremeIsAccepted) {
  LinkFaults f;
  f.loss_probability = 1.0;
  f.burst_enter_probability = 1.0;
  f.burst_exit_probability = 1.0;
  f.burst_loss_probability = 0.0;
  f.delay_one_way = Duration::zero();
  f.jitter_max = LinkFaults::kDurationMax;
  f.reorder_probability = 1.0;
  f.reorder_delay = Duration::nanoseconds(1);
  f.duplicate_probability = 1.0;
  f.corrupt_probability = 1.0;
  f.corrupt_bits_max = Delivery::kMaxFlips;
  f.rate_bits_per_second = 1;
  f.mtu = 68;
  f.queue_bytes_max = 68 + 14;
  f.partitions = {{Instant::from_ns(5), Instant::from_ns(5)}};
  f.partition_interval_mean = Duration::nanoseconds(1);
  f.partition_duration_mean = Duration::nanoseconds(1);
  EXPECT_EQ(error_of(f), "");
}

TEST(LinkFaultsValidate, LossProbability) {
  LinkFaults f;
  f.loss_probability = 1.01;
  expect_rejected(f, "loss_probability");
  f.loss_probability = -0.1;
  expect_rejected(f, "loss_probability");
  f.loss_probability = kNan;
  expect_rejected(f, "loss_probability");
}

TEST(LinkFaultsValidate, BurstEnterProbability) {
  LinkFaults f;
  f.burst_enter_probability = 2.0;
  expect_rejected(f, "burst_enter_probability");
  f.burst_enter_probability = kNan;
  expect_rejected(f, "burst_enter_probability");
}

TEST(LinkFaultsValidate, BurstExitProbability) {
  LinkFaults f;
  f.burst_exit_probability = -1e-9;
  expect_rejected(f, "burst_exit_probability");
  f.burst_exit_probability = kNan;
  expect_rejected(f, "burst_exit_probability");
}

TEST(LinkFaultsValidate, BurstExitProbabilityZeroWouldTrapTheChainInTheBadState) {
  LinkFaults f;
  f.burst_enter_probability = 0.1;
  f.burst_exit_probability = 0.0;
  expect_rejected(f, "burst_exit_probability");
  f.burst_enter_probability = 0.0;  // the bad state is never entered: fine
  EXPECT_EQ(error_of(f), "");
}

TEST(LinkFaultsValidate, BurstLossProbability) {
  LinkFaults f;
  f.burst_loss_probability = 1.5;
  expect_rejected(f, "burst_loss_probability");
  f.burst_loss_probability = kNan;
  expect_rejected(f, "burst_loss_probability");
}

TEST(LinkFaultsValidate, ReorderProbability) {
  LinkFaults f;
  f.reorder_probability = -0.5;
  expect_rejected(f, "reorder_probability");
  f.reorder_probability = kNan;
  expect_rejected(f, "reorder_probability");
}

TEST(LinkFaultsValidate, DuplicateProbability) {
  LinkFaults f;
  f.duplicate_probability = 3.0;
  expect_rejected(f, "duplicate_probability");
  f.duplicate_probability = kNan;
  expect_rejected(f, "duplicate_probability");
}

TEST(LinkFaultsValidate, CorruptProbability) {
  LinkFaults f;
  f.corrupt_probability = 1.0000001;
  expect_rejected(f, "corrupt_probability");
  f.corrupt_probability = kNan;
  expect_rejected(f, "corrupt_probability");
}

TEST(LinkFaultsValidate, DelayOneWay) {
  LinkFaults f;
  f.delay_one_way = Duration::nanoseconds(-1);
  expect_rejected(f, "delay_one_way");
  f.delay_one_way = LinkFaults::kDurationMax + Duration::nanoseconds(1);
  expect_rejected(f, "delay_one_way");
}

TEST(LinkFaultsValidate, JitterMax) {
  LinkFaults f;
  f.jitter_max = Duration::milliseconds(-3);
  expect_rejected(f, "jitter_max");
  f.jitter_max = Duration::max();
  expect_rejected(f, "jitter_max");
}

TEST(LinkFaultsValidate, ReorderDelay) {
  LinkFaults f;
  f.reorder_delay = Duration::nanoseconds(-1);
  expect_rejected(f, "reorder_delay");
}

TEST(LinkFaultsValidate, ReorderDelayZeroWouldReorderNothing) {
  LinkFaults f;
  f.reorder_probability = 0.1;
  f.reorder_delay = Duration::zero();
  expect_rejected(f, "reorder_delay");
  f.reorder_probability = 0.0;  // reordering off: the delay does not matter
  EXPECT_EQ(error_of(f), "");
}

TEST(LinkFaultsValidate, CorruptBitsMax) {
  LinkFaults f;
  f.corrupt_bits_max = 0;
  expect_rejected(f, "corrupt_bits_max");
  f.corrupt_bits_max = Delivery::kMaxFlips + 1;
  expect_rejected(f, "corrupt_bits_max");
}

TEST(LinkFaultsValidate, MtuBelowRfc791Minimum) {
  LinkFaults f;
  f.mtu = 67;
  expect_rejected(f, "mtu");
  f.mtu = 0;
  expect_rejected(f, "mtu");
}

TEST(LinkFaultsValidate, MtuAboveIpv4TotalLength) {
  LinkFaults f;
  f.mtu = 65535;
  EXPECT_EQ(error_of(f), "");
  f.mtu = 65536;
  expect_rejected(f, "mtu");
}

TEST(LinkFaultsValidate, QueueMustHoldOneMaxSizeFrameWhenRateLimited) {
  LinkFaults f;
  f.mtu = 1500;
  f.queue_bytes_max = 1513;
  EXPECT_EQ(error_of(f), "") << "without a rate limit there is no queue";
  f.rate_bits_per_second = 1'000'000;
  expect_rejected(f, "queue_bytes_max");
  f.queue_bytes_max = 1514;
  EXPECT_EQ(error_of(f), "");
}

TEST(LinkFaultsValidate, QueueBytesMaxUpperBound) {
  LinkFaults f;
  f.rate_bits_per_second = 1'000'000;
  f.queue_bytes_max = LinkFaults::kQueueBytesMax;
  EXPECT_EQ(error_of(f), "");
  f.queue_bytes_max = LinkFaults::kQueueBytesMax + 1;
  expect_rejected(f, "queue_bytes_max");
}

TEST(LinkFaultsValidate, ZeroRateMeansUnlimited) {
  LinkFaults f;
  f.rate_bits_per_second = 0;
  f.queue_bytes_max = 0;
  EXPECT_EQ(error_of(f), "");
}

TEST(LinkFaultsValidate, PartitionEndingBeforeItStartsNamesItsIndex) {
  LinkFaults f;
  f.partitions = {{Instant::from_ns(0), Instant::from_ns(10)}, {Instant::from_ns(20), Instant::from_ns(19)}};
  expect_rejected(f, "partitions[1]");
}

TEST(LinkFaultsValidate, PartitionIntervalMean) {
  LinkFaults f;
  f.partition_interval_mean = Duration::nanoseconds(-5);
  f.partition_duration_mean = Duration::milliseconds(1);
  expect_rejected(f, "partition_interval_mean");
}

TEST(LinkFaultsValidate, PartitionDurationMean) {
  LinkFaults f;
  f.partition_interval_mean = Duration::milliseconds(1);
  f.partition_duration_mean = Duration::nanoseconds(-5);
  expect_rejected(f, "partition_duration_mean");
}

TEST(LinkFaultsValidate, RandomPartitionsNeedADuration) {
  LinkFaults f;
  f.partition_interval_mean = Duration::seconds(1);
  expect_rejected(f, "partition_duration_mean");
}

TEST(LinkFaultsValidate, RandomPartitionDurationWithoutIntervalIsAMistake) {
  LinkFaults f;
  f.partition_duration_mean = Duration::seconds(1);
  expect_rejected(f, "partition_interval_mean");
}

TEST(LinkFaultsValidate, MessageSaysWhatIsWrong) {
  LinkFaults f;
  f.loss_probability = 1.5;
  EXPECT_EQ(error_of(f), "loss_probability: must be a probability in [0, 1], got 1.5");
  f = LinkFaults{};
  f.mtu = 40;
  EXPECT_EQ(error_of(f), "mtu: must be in [68, 65535] (RFC 791), got 40");
}

TEST(FaultModelConstruction, InvalidFaultsThrowWithTheMessage) {
  LinkFaults f;
  f.mtu = 40;
  try {
    FaultModel model(f, 1);
    FAIL() << "constructed a model with mtu 40";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("mtu:"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tapstack::sim
