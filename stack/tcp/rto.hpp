#pragma once
// Retransmission timeout estimator per RFC 6298: SRTT and RTTVAR from RTT
// samples (2.2, 2.3), the RTO from them with a floor and a ceiling (2.4, 2.5),
// and exponential backoff on expiry (5.5). Pure integer nanosecond arithmetic:
// the same samples always give the same RTO. Which samples are valid (Karn's
// rule, RFC 6298 3: none from retransmitted segments) is the caller's call.

#include <cstdint>

#include "stack/base/time.hpp"

namespace tapstack::tcp {

struct RtoConfig {
  // G, the clock granularity of RFC 6298 2: the smallest variance term.
  Duration clock_granularity = Duration::milliseconds(1);
  // RFC 6298 2.1: 1 s before any sample.
  Duration initial_rto = Duration::seconds(1);
  // RFC 6298 2.4 asks for 1 s; like Linux we default to 200 ms (issue 5).
  Duration min_rto = Duration::milliseconds(200);
  // RFC 6298 2.5: a maximum of at least 60 seconds.
  Duration max_rto = Duration::seconds(60);
};

class RtoEstimator {
 public:
  // RFC 6298 constants: alpha = 1/8, beta = 1/4, K = 4.
  static constexpr std::int64_t kAlphaShift = 3;
  static constexpr std::int64_t kBetaShift = 2;
  static constexpr std::int64_t kK = 4;
  // Samples are clamped to [0, kMaxSample] so the arithmetic cannot overflow.
  static constexpr Duration kMaxSample = Duration::seconds(3'600);

  RtoEstimator() : RtoEstimator(RtoConfig{}) {}
  explicit RtoEstimator(const RtoConfig& config);

  // A valid RTT measurement R: the first follows 2.2, later ones 2.3. The RTO
  // is recomputed and any backoff is dropped (5.7 / Karn: a fresh sample from
  // a segment not retransmitted ends the backoff).
  void on_sample(Duration rtt);
  // The retransmission timer expired (5.5): RTO = min(2 * RTO, max_rto).
  void backoff();
  // Back to the RTO computed from SRTT/RTTVAR (or the initial RTO before any
  // sample), without a new sample.
  void reset_backoff();

  // The current timeout, backoff included.
  Duration rto() const { return rto_; }
  bool has_sample() const { return has_sample_; }
  Duration srtt() const { return srtt_; }      // zero before the first sample
  Duration rttvar() const { return rttvar_; }  // zero before the first sample
  // How many times backoff() doubled the RTO since the last sample or reset.
  std::uint32_t backoff_count() const { return backoff_count_; }
  const RtoConfig& config() const { return config_; }

 private:
  Duration base_rto() const;

  RtoConfig config_;
  Duration srtt_ = Duration::zero();
  Duration rttvar_ = Duration::zero();
  bool has_sample_ = false;
  std::uint32_t backoff_count_ = 0;
  Duration rto_;  // last: the constructor computes it from the fields above
};

}  // namespace tapstack::tcp
