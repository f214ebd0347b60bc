#include "sim/link_faults.hpp"

#include <cmath>
#include <cstdio>

#include "sim/fault_model.hpp"

namespace tapstack::sim {
namespace {

std::string format_double(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string format_duration(Duration d) { return std::to_string(d.ns()) + " ns"; }

Failure<std::string> error(const std::string& option, const std::string& problem) {
  return fail(option + ": " + problem);
}

// A probability must be a number in [0, 1]; NaN fails both comparisons.
bool valid_probability(double p) { return p >= 0.0 && p <= 1.0; }

Result<Unit, std::string> check_probability(const char* option, double p) {
  if (!valid_probability(p)) {
    return error(option, "must be a probability in [0, 1], got " + format_double(p));
  }
  return Unit{};
}

Result<Unit, std::string> check_duration(const char* option, Duration d) {
  if (d < Duration::zero()) {
    return error(option, "must not be negative, got " + format_duration(d));
  }
  if (d > LinkFaults::kDurationMax) {
    return error(option, "must be at most " + format_duration(LinkFaults::kDurationMax) + ", got " +
                             format_duration(d));
  }
  return Unit{};
}

}  // namespace

Result<Unit, std::string> LinkFaults::validate() const {
  const struct {
    const char* name;
    double value;
  } probabilities[] = {
      {"loss_probability", loss_probability},
      {"burst_enter_probability", burst_enter_probability},
      {"burst_exit_probability", burst_exit_probability},
      {"burst_loss_probability", burst_loss_probability},
      {"reorder_probability", reorder_probability},
      {"duplicate_probability", duplicate_probability},
      {"corrupt_probability", corrupt_probability},
  };
  for (const auto& p : probabilities) {
    if (auto r = check_probability(p.name, p.value); !r.ok()) {
      return r;
    }
  }
  if (burst_enter_probability > 0.0 && burst_exit_probability == 0.0) {
    return error("burst_exit_probability",
                 "must be above 0 when burst_enter_probability is (the bad state would never end)");
  }

  const struct {
    const char* name;
    Duration value;
  } durations[] = {
      {"delay_one_way", delay_one_way},
      {"jitter_max", jitter_max},
      {"reorder_delay", reorder_delay},
      {"partition_interval_mean", partition_interval_mean},
      {"partition_duration_mean", partition_duration_mean},
  };
  for (const auto& d : durations) {
    if (auto r = check_duration(d.name, d.value); !r.ok()) {
      return r;
    }
  }
  if (reorder_probability > 0.0 && reorder_delay == Duration::zero()) {
    return error("reorder_delay", "must be above 0 when reorder_probability is (nothing would be reordered)");
  }

  if (corrupt_bits_max == 0 || corrupt_bits_max > Delivery::kMaxFlips) {
    return error("corrupt_bits_max",
                 "must be in [1, " + std::to_string(Delivery::kMaxFlips) + "], got " + std::to_string(corrupt_bits_max));
  }

  if (mtu < kMtuMin || mtu > kMtuMax) {
    return error("mtu", "must be in [" + std::to_string(kMtuMin) + ", " + std::to_string(kMtuMax) +
                            "] (RFC 791), got " + std::to_string(mtu));
  }

  // The queue only exists with a rate limit; then it must be able to hold one
  // maximum-size frame, or an idle link would drop such frames.
  if (rate_bits_per_second > 0) {
    const std::size_t frame_max = mtu + kEthernetHeaderLen;
    if (queue_bytes_max < frame_max) {
      return error("queue_bytes_max", "must hold one maximum-size frame (mtu + 14 = " + std::to_string(frame_max) +
                                          " bytes) when rate_bits_per_second is set, got " +
                                          std::to_string(queue_bytes_max));
    }
    if (queue_bytes_max > kQueueBytesMax) {
      return error("queue_bytes_max",
                   "must be at most " + std::to_string(kQueueBytesMax) + ", got " + std::to_string(queue_bytes_max));
    }
  }

  for (std::size_t i = 0; i < partitions.size(); ++i) {
    if (partitions[i].end < partitions[i].start) {
      return error("partitions[" + std::to_string(i) + "]",
                   "end (" + std::to_string(partitions[i].end.ns()) + " ns) is before start (" +
                       std::to_string(partitions[i].start.ns()) + " ns)");
    }
  }

  const bool interval_set = partition_interval_mean > Duration::zero();
  const bool duration_set = partition_duration_mean > Duration::zero();
  if (interval_set && !duration_set) {
    return error("partition_duration_mean", "must be above 0 when partition_interval_mean is (random outages)");
  }
  if (duration_set && !interval_set) {
    return error("partition_interval_mean",
                 "must be above 0 when partition_duration_mean is (0 turns random outages off)");
  }
  return Unit{};
}

}  // namespace tapstack::sim
