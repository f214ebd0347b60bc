#include "stack/tcp/rto.hpp"

#include <algorithm>

namespace tapstack::tcp {

RtoEstimator::RtoEstimator(const RtoConfig& config) : config_(config), rto_(base_rto()) {}

Duration RtoEstimator::base_rto() const {
  Duration rto = config_.initial_rto;
  if (has_sample_) {
    // RFC 6298 2.2/2.3: RTO <- SRTT + max(G, K*RTTVAR).
    rto = srtt_ + std::max(config_.clock_granularity, rttvar_ * kK);
  }
  // 2.4 (floor, configurable) and 2.5 (ceiling); the ceiling wins if a
  // misconfiguration puts the floor above it.
  rto = std::max(rto, config_.min_rto);
  return std::min(rto, config_.max_rto);
}

void RtoEstimator::on_sample(Duration rtt) {
  const Duration r = std::clamp(rtt, Duration::zero(), kMaxSample);
  if (!has_sample_) {
    // 2.2: SRTT <- R, RTTVAR <- R/2.
    srtt_ = r;
    rttvar_ = r / 2;
    has_sample_ = true;
  } else {
    // 2.3, in this order (RTTVAR uses the old SRTT):
    //   RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
    //   SRTT   <- (1 - alpha) * SRTT + alpha * R'
    // Written as one division each, (3*RTTVAR + |d|) / 4 and (7*SRTT + R') / 8,
    // so rounding loses at most one nanosecond per step.
    const Duration diff = srtt_ > r ? srtt_ - r : r - srtt_;
    rttvar_ = (rttvar_ * ((1 << kBetaShift) - 1) + diff) / (1 << kBetaShift);
    srtt_ = (srtt_ * ((1 << kAlphaShift) - 1) + r) / (1 << kAlphaShift);
  }
  backoff_count_ = 0;
  rto_ = base_rto();
}

void RtoEstimator::backoff() {
  // 5.5: RTO <- RTO * 2, bounded by the maximum (2.5). Once at the maximum the
  // doubling stops, so rto_ cannot overflow however often the timer fires.
  rto_ = rto_ >= config_.max_rto / 2 ? config_.max_rto : rto_ * 2;
  ++backoff_count_;
}

void RtoEstimator::reset_backoff() {
  backoff_count_ = 0;
  rto_ = base_rto();
}

}  // namespace tapstack::tcp
