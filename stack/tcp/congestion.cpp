#include "stack/tcp/congestion.hpp"

#include <algorithm>
#include <limits>

namespace tapstack::tcp {
namespace {

// Every window is kept at or below 2^30 bytes: at least the largest window a
// peer can advertise (65535 << 14, RFC 7323 2.3), and far enough below 2^32
// that adding an SMSS or a flight size in 64 bits and clamping never wraps.
constexpr std::uint32_t kMaxWindow = std::uint32_t{1} << 30;
// RFC 1122 4.2.2.6 / RFC 9293 3.7.1: the SMSS assumed until the handshake says otherwise.
constexpr std::uint32_t kDefaultSmss = 536;
// RFC 6928 2 writes its cap as 14600 = 10 * 1460 bytes; per segment that is 1460.
constexpr std::uint64_t kInitialWindowBytesPerSegment = 1460;

std::uint32_t clamp_window(std::uint64_t bytes) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(bytes, kMaxWindow));
}

// RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)); for N segments the cap
// becomes N*1460, so N = 10 is exactly the RFC's formula.
std::uint32_t initial_window(std::uint32_t segments, std::uint32_t smss) {
  const std::uint64_t n = segments;
  const std::uint64_t s = smss;
  return clamp_window(std::min(n * s, std::max(2 * s, n * kInitialWindowBytesPerSegment)));
}

NewRenoConfig sanitised(NewRenoConfig config) {
  // Zero would mean "no initial window" / "every ACK is the third duplicate".
  config.initial_window_segments = std::max<std::uint32_t>(config.initial_window_segments, 1);
  config.duplicate_ack_threshold = std::max<std::uint32_t>(config.duplicate_ack_threshold, 1);
  return config;
}

class NewReno final : public CongestionControl {
 public:
  explicit NewReno(const NewRenoConfig& config) : config_(sanitised(config)) {
    cwnd_ = initial_window(config_.initial_window_segments, smss_);
  }

  std::string_view name() const override { return "newreno"; }

  void start(std::uint32_t smss, SeqNum iss_plus_one) override {
    smss_ = std::max<std::uint32_t>(smss, 1);
    // RFC 5681 3.1 (and RFC 6928 2): after a lost SYN or SYN/ACK the initial
    // window is one segment.
    cwnd_ = handshake_timed_out_ ? clamp_window(smss_)
                                 : initial_window(config_.initial_window_segments, smss_);
    // RFC 5681 3.1: ssthresh starts "arbitrarily high".
    ssthresh_ = kMaxWindow;
    in_recovery_ = false;
    duplicate_acks_ = 0;
    ca_bytes_acked_ = 0;
    timer_retransmitted_ = false;
    // RFC 6582 3.2 step 1: recover = ISS. We keep recover as a SND.NXT value
    // (one past the highest sequence number sent, see covers_more_than_recover),
    // and before the SYN went out SND.NXT was ISS. So any ACK of data covers
    // more than it, and a lost first data segment can still be fast-retransmitted.
    recover_ = iss_plus_one - SeqLen{1};
    una_passed_recover_ = false;
    started_ = true;
  }

  CongestionAction on_new_ack(SeqNum ack, std::uint32_t bytes_acked, std::uint32_t /*flight_size*/,
                              SeqNum snd_nxt) override {
    duplicate_acks_ = 0;  // RFC 5681 3.2: three duplicates "without any intervening ACKs which move SND.UNA"
    // RFC 5681 3.1 eqn (4) holds ssthresh only while the *same* segment is
    // being retransmitted by the timer; the timer resends only the first
    // unacknowledged segment (RFC 6298 5.4), and that one is now acknowledged.
    timer_retransmitted_ = false;

    if (in_recovery_) {
      if (ge(ack, recover_)) {
        // RFC 6582 3.2 step 3, full acknowledgment. Option (1),
        // min(ssthresh, max(FlightSize, SMSS) + SMSS) with FlightSize what is
        // outstanding now: it never lets the ACK release more than about one
        // segment beyond what is in flight, so no burst when recovery ends
        // (the concern of option (2), RFC 6582 6).
        const std::uint64_t outstanding = static_cast<std::uint32_t>(std::max(distance(snd_nxt, ack), 0));
        const std::uint64_t floor = std::max<std::uint64_t>(outstanding, smss_) + smss_;
        cwnd_ = clamp_window(std::min<std::uint64_t>(ssthresh_, floor));
        in_recovery_ = false;
        ++counters_.recoveries_completed;
        note_una_progress(ack);
        // RFC 6582 6: cwnd is not grown again on the ACK that ended recovery.
        return CongestionAction::None;
      }
      // RFC 6582 3.2 step 3, partial acknowledgment: deflate by the newly
      // acknowledged data, add back one SMSS if at least one SMSS left the
      // network, and retransmit the next hole. Never below one segment, so the
      // sender can always send that retransmission.
      std::uint64_t cwnd = cwnd_ > bytes_acked ? cwnd_ - bytes_acked : 0;
      if (bytes_acked >= smss_) {
        cwnd += smss_;
      }
      cwnd_ = clamp_window(std::max<std::uint64_t>(cwnd, smss_));
      ++counters_.partial_acks;
      return CongestionAction::RetransmitFirstUnacked;
    }

    note_una_progress(ack);
    grow(bytes_acked);
    return CongestionAction::None;
  }

  CongestionAction on_duplicate_ack(std::uint32_t flight_size, SeqNum snd_nxt, SeqNum snd_una) override {
    if (duplicate_acks_ < std::numeric_limits<std::uint32_t>::max()) {
      ++duplicate_acks_;
    }
    if (in_recovery_) {
      // RFC 5681 3.2 step 4 (also after a partial ACK, RFC 6582 3.2 step 3):
      // each further duplicate means another segment left the network. Its
      // note allows limiting the inflation to what is outstanding; we do, so
      // a receiver sending bogus duplicates cannot inflate cwnd without bound
      // (the inflation is cwnd - ssthresh, initially threshold * SMSS).
      const std::uint64_t inflation = cwnd_ > ssthresh_ ? cwnd_ - ssthresh_ : 0;
      if (inflation + smss_ <= flight_size) {
        cwnd_ = clamp_window(std::uint64_t{cwnd_} + smss_);
      }
      return CongestionAction::None;
    }
    if (duplicate_acks_ != config_.duplicate_ack_threshold) {
      // Before the threshold: limited transmit is the connection's business
      // (RFC 3042; cwnd must not change, RFC 5681 3.2 step 1). After it, with
      // fast retransmit refused, nothing more to do (RFC 6582 4).
      return CongestionAction::None;
    }
    if (!covers_more_than_recover(snd_una)) {
      // RFC 6582 3.2 step 2: "If not, the TCP does not enter fast retransmit
      // and does not reset ssthresh" -- these duplicates most likely answer
      // segments resent by go-back-N after a timeout (section 4).
      ++counters_.suppressed_fast_retransmits;
      return CongestionAction::None;
    }
    // RFC 6582 3.2 step 2: recover := highest sequence number sent, then
    // RFC 5681 3.2 steps 2 and 3: ssthresh per eqn (4), retransmit, and
    // inflate by the segments the duplicates say have left the network
    // (3*SMSS for the standard threshold of three).
    recover_ = snd_nxt;
    una_passed_recover_ = false;
    ssthresh_ = loss_ssthresh(flight_size);
    cwnd_ = clamp_window(std::uint64_t{ssthresh_} +
                         std::uint64_t{config_.duplicate_ack_threshold} * smss_);
    in_recovery_ = true;
    ca_bytes_acked_ = 0;
    ++counters_.fast_retransmits;
    return CongestionAction::RetransmitFirstUnacked;
  }

  void on_timeout(std::uint32_t flight_size, SeqNum snd_nxt) override {
    ++counters_.timeouts;
    if (!started_) {
      handshake_timed_out_ = true;
    }
    // RFC 5681 3.1: eqn (4) when the segment is first resent by the timer;
    // "held constant" when it has already been (by then FlightSize has
    // collapsed to what go-back-N resent, and halving it again would be wrong).
    if (!timer_retransmitted_) {
      ssthresh_ = loss_ssthresh(flight_size);
    }
    timer_retransmitted_ = true;
    cwnd_ = clamp_window(smss_);  // the loss window, LW = 1 full-sized segment
    in_recovery_ = false;         // RFC 6582 3.2 step 4: exit fast recovery
    duplicate_acks_ = 0;
    ca_bytes_acked_ = 0;
    // RFC 6582 3.2 step 4: recover := highest sequence number sent. If an
    // earlier recover is still ahead of snd_nxt (the caller rewound SND.NXT for
    // go-back-N and passed that), it is the higher sent point: keep it.
    if (una_passed_recover_ || ge(snd_nxt, recover_)) {
      recover_ = snd_nxt;
    }
    una_passed_recover_ = false;
  }

  std::uint32_t window() const override { return cwnd_; }
  std::uint32_t ssthresh() const override { return ssthresh_; }
  bool in_recovery() const override { return in_recovery_; }
  const CongestionCounters& counters() const override { return counters_; }

 private:
  // RFC 5681 3.1 eqn (4), also used by 3.2 step 2.
  std::uint32_t loss_ssthresh(std::uint32_t flight_size) const {
    return clamp_window(std::max<std::uint64_t>(flight_size / 2, 2 * std::uint64_t{smss_}));
  }

  // RFC 6582 3.2 step 2: the cumulative ACK covers more than recover when
  // "ack_number - 1 > recover", recover being the highest sequence number
  // sent. We store recover as SND.NXT at that moment (highest sent + 1), so
  // the test is ack > recover.
  bool covers_more_than_recover(SeqNum ack) const { return una_passed_recover_ || gt(ack, recover_); }

  // RFC 6582 6: outside recovery SND.UNA keeps moving while recover stays put,
  // and after 2^31 bytes the wrap-aware comparison would flip and forbid fast
  // retransmit. Once the ACK has passed recover, remember that instead.
  void note_una_progress(SeqNum ack) {
    if (!una_passed_recover_ && gt(ack, recover_)) {
      una_passed_recover_ = true;
    }
  }

  void grow(std::uint32_t bytes_acked) {
    if (cwnd_ < ssthresh_) {
      // RFC 5681 3.1 eqn (2), RFC 3465 with L = 1*SMSS: cwnd += min(N, SMSS).
      cwnd_ = clamp_window(std::uint64_t{cwnd_} + std::min(bytes_acked, smss_));
      return;
    }
    // Congestion avoidance (cwnd >= ssthresh; at equality 5681 3.1 allows either).
    if (config_.congestion_avoidance == CongestionAvoidanceGrowth::PerAck) {
      // Eqn (3), rounded up to 1 byte when the integer quotient is 0 (3.1
      // implementation note).
      const std::uint64_t increase =
          std::max<std::uint64_t>(std::uint64_t{smss_} * smss_ / cwnd_, 1);
      cwnd_ = clamp_window(cwnd_ + increase);
      return;
    }
    // RFC 5681 3.1's RECOMMENDED byte counting (RFC 3465 2.1): once a cwnd's
    // worth of bytes has been acknowledged, cwnd += SMSS. At most one SMSS per
    // ACK ("MUST NOT increment cwnd by more than SMSS bytes"), and what a
    // stretch ACK acknowledges beyond the window carries over only up to one
    // SMSS, so it cannot buy a second increase on the next ACK either. (An ACK
    // of two segments, the delayed-ACK case, never loses any carry.)
    ca_bytes_acked_ += bytes_acked;
    if (ca_bytes_acked_ >= cwnd_) {
      ca_bytes_acked_ = std::min<std::uint64_t>(ca_bytes_acked_ - cwnd_, smss_);
      cwnd_ = clamp_window(std::uint64_t{cwnd_} + smss_);
    }
  }

  NewRenoConfig config_;
  std::uint32_t smss_ = kDefaultSmss;
  std::uint32_t cwnd_ = 0;
  std::uint32_t ssthresh_ = kMaxWindow;
  std::uint64_t ca_bytes_acked_ = 0;  // RFC 3465 "bytes_acked", congestion avoidance only
  std::uint32_t duplicate_acks_ = 0;  // consecutive, saturating
  SeqNum recover_{};                   // RFC 6582 "recover", as a SND.NXT value
  // Before start() nothing was sent, so no recover point can hold anything back.
  bool una_passed_recover_ = true;
  bool in_recovery_ = false;
  bool timer_retransmitted_ = false;  // the first unacknowledged segment was resent by the timer
  bool started_ = false;
  bool handshake_timed_out_ = false;
  CongestionCounters counters_;
};

}  // namespace

std::unique_ptr<CongestionControl> make_new_reno(const NewRenoConfig& config) {
  return std::make_unique<NewReno>(config);
}

}  // namespace tapstack::tcp
