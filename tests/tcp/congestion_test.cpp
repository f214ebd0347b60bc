#include "stack/tcp/congestion.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

// Every expected value below is computed here from the RFC formulas, never
// copied from the implementation:
//   IW        RFC 6928 2:        min(N*SMSS, max(2*SMSS, N*1460)), N = 10 -> 14600
//   eqn (2)   RFC 5681 3.1:      slow start cwnd += min(bytes acked, SMSS)
//   eqn (3)   RFC 5681 3.1:      cwnd += max(1, SMSS*SMSS/cwnd) per ACK
//   counting  RFC 5681 3.1/3465: cwnd += SMSS once cwnd bytes have been acked
//   eqn (4)   RFC 5681 3.1:      ssthresh = max(FlightSize/2, 2*SMSS)
//   FR        RFC 5681 3.2:      cwnd = ssthresh + 3*SMSS, then +SMSS per dup ACK
//   partial   RFC 6582 3.2 (3):  cwnd -= acked, += SMSS if acked >= SMSS
//   full      RFC 6582 3.2 (3):  option (1) cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)

namespace tapstack::tcp {
namespace {

constexpr std::uint32_t kSmss = 1460;
// Near the top of sequence space, so recover/ack comparisons cross the wrap.
constexpr SeqNum kIss{0xFFFF'F000u};

std::uint32_t rfc6928_iw(std::uint64_t n, std::uint64_t smss) {
  return static_cast<std::uint32_t>(std::min(n * smss, std::max(2 * smss, n * 1460)));
}
std::uint32_t eqn4(std::uint32_t flight, std::uint32_t smss) { return std::max(flight / 2, 2 * smss); }

// A sender's view of its sequence space: send() moves SND.NXT, ack() moves
// SND.UNA and reports FlightSize from before the ACK, as the interface asks.
class Flow {
 public:
  explicit Flow(NewRenoConfig config = {}, std::uint32_t smss = kSmss) : cc_(make_new_reno(config)), smss_(smss) {
    cc_->start(smss, una_);
  }
  CongestionControl& cc() { return *cc_; }
  std::uint32_t flight() const { return (nxt_ - una_).raw(); }
  SeqNum una() const { return una_; }
  SeqNum nxt() const { return nxt_; }

  void send(std::uint32_t bytes) { nxt_ += SeqLen{bytes}; }
  void send_segments(std::uint32_t n) { send(n * smss_); }
  void rewind_nxt_to_una() { nxt_ = una_; }  // go-back-N after a timeout

  CongestionAction ack(std::uint32_t bytes) {
    const std::uint32_t flight_before = flight();
    una_ += SeqLen{bytes};
    return cc_->on_new_ack(una_, bytes, flight_before, nxt_);
  }
  CongestionAction ack_to(SeqNum to) { return ack((to - una_).raw()); }
  CongestionAction dup() { return cc_->on_duplicate_ack(flight(), nxt_, una_); }
  void timeout() { cc_->on_timeout(flight(), nxt_); }

  // Three duplicates; returns the action of the third.
  CongestionAction dups(int n) {
    CongestionAction last = CongestionAction::None;
    for (int i = 0; i < n; ++i) {
      last = dup();
    }
    return last;
  }

 private:
  std::unique_ptr<CongestionControl> cc_;
  std::uint32_t smss_;
  SeqNum una_ = kIss + SeqLen{1};
  SeqNum nxt_ = kIss + SeqLen{1};
};

// ---------------------------------------------------------------- initial window

TEST(InitialWindow, Rfc6928ForTenSegments) {
  for (std::uint32_t smss : {536u, 1460u, 8960u}) {
    auto cc = make_new_reno({});
    cc->start(smss, kIss + SeqLen{1});
    EXPECT_EQ(cc->window(), std::min(10 * smss, std::max(2 * smss, 14600u))) << smss;
  }
  // The same numbers spelled out: 5360, 14600, 2*8960.
  EXPECT_EQ(rfc6928_iw(10, 536), 5360u);
  EXPECT_EQ(rfc6928_iw(10, 1460), 14600u);
  EXPECT_EQ(rfc6928_iw(10, 8960), 17920u);
}

TEST(InitialWindow, GeneralisedToOtherSegmentCounts) {
  for (std::uint32_t n : {1u, 2u, 4u, 20u}) {
    for (std::uint32_t smss : {536u, 1460u, 8960u}) {
      NewRenoConfig config;
      config.initial_window_segments = n;
      auto cc = make_new_reno(config);
      cc->start(smss, kIss + SeqLen{1});
      EXPECT_EQ(cc->window(), rfc6928_iw(n, smss)) << n << " " << smss;
    }
  }
}

TEST(InitialWindow, BeforeStartIsTheIwFor536ByteSegments) {
  auto cc = make_new_reno({});
  EXPECT_EQ(cc->window(), rfc6928_iw(10, 536));
  EXPECT_FALSE(cc->in_recovery());
  EXPECT_EQ(cc->name(), "newreno");
}

TEST(InitialWindow, SsthreshStartsAtLeastAsHighAsAnyAdvertisedWindow) {  // RFC 5681 3.1, RFC 7323 2.3
  auto cc = make_new_reno({});
  cc->start(kSmss, kIss + SeqLen{1});
  EXPECT_GE(cc->ssthresh(), 65535u << 14);
}

TEST(InitialWindow, OneSegmentAfterALostSyn) {  // RFC 5681 3.1
  auto cc = make_new_reno({});
  cc->on_timeout(0, kIss + SeqLen{1});  // the SYN timed out
  cc->start(kSmss, kIss + SeqLen{1});
  EXPECT_EQ(cc->window(), kSmss);
  EXPECT_GE(cc->ssthresh(), 65535u << 14);
  EXPECT_EQ(cc->counters().timeouts, 1u);
}

TEST(InitialWindow, ZeroSegmentsOrZeroSmssStillLeaveAWindow) {
  NewRenoConfig config;
  config.initial_window_segments = 0;  // treated as 1
  auto cc = make_new_reno(config);
  cc->start(kSmss, kIss + SeqLen{1});
  EXPECT_EQ(cc->window(), rfc6928_iw(1, kSmss));
  auto tiny = make_new_reno({});
  tiny->start(0, kIss + SeqLen{1});  // treated as 1 byte
  EXPECT_EQ(tiny->window(), rfc6928_iw(10, 1));
}

TEST(InitialWindow, HugeConfigurationIsClampedToOneGib) {
  NewRenoConfig config;
  config.initial_window_segments = std::numeric_limits<std::uint32_t>::max();
  auto cc = make_new_reno(config);
  cc->start(65535, kIss + SeqLen{1});
  EXPECT_EQ(cc->window(), 1u << 30);
}

// ---------------------------------------------------------------- slow start

TEST(SlowStart, EachAckOfAFullSegmentAddsOneSmss) {
  Flow f;
  std::uint32_t cwnd = rfc6928_iw(10, kSmss);
  f.send_segments(10);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(f.ack(kSmss), CongestionAction::None);
    cwnd += kSmss;  // eqn (2): min(SMSS, SMSS)
    EXPECT_EQ(f.cc().window(), cwnd);
  }
  // A window of ACKs doubled it.
  EXPECT_EQ(f.cc().window(), 2 * rfc6928_iw(10, kSmss));
}

TEST(SlowStart, ByteCountingLimitsSmallAndStretchAcks) {  // eqn (2): min(N, SMSS)
  Flow f;
  f.send_segments(10);
  std::uint32_t cwnd = f.cc().window();
  f.ack(500);
  cwnd += std::min(500u, kSmss);
  EXPECT_EQ(f.cc().window(), cwnd);
  f.ack(3 * kSmss);  // a stretch ACK still adds one SMSS
  cwnd += std::min(3 * kSmss, kSmss);
  EXPECT_EQ(f.cc().window(), cwnd);
  for (int i = 0; i < 10; ++i) {  // "ACK division": ten 1-byte ACKs buy ten bytes
    f.ack(1);
  }
  cwnd += 10 * std::min(1u, kSmss);
  EXPECT_EQ(f.cc().window(), cwnd);
}

// After a timeout sets ssthresh, slow start climbs from the loss window back
// to ssthresh and congestion avoidance takes over there.
TEST(SlowStart, HandsOverToCongestionAvoidanceAtSsthresh) {
  Flow f;
  f.send_segments(20);
  const std::uint32_t ssthresh = eqn4(20 * kSmss, kSmss);  // 10 segments
  f.timeout();
  ASSERT_EQ(f.cc().ssthresh(), ssthresh);
  std::uint32_t cwnd = kSmss;
  ASSERT_EQ(f.cc().window(), cwnd);
  while (cwnd < ssthresh) {
    f.ack(kSmss);
    cwnd += kSmss;
    EXPECT_EQ(f.cc().window(), cwnd);
  }
  EXPECT_EQ(f.cc().window(), ssthresh);
  // Now cwnd == ssthresh: congestion avoidance, an ACK of one SMSS no longer adds one.
  f.send_segments(20);
  f.ack(kSmss);  // byte counting: SMSS acknowledged < cwnd, so no increase yet
  EXPECT_EQ(f.cc().window(), ssthresh);
}

// ---------------------------------------------------------------- congestion avoidance

// Puts a flow in congestion avoidance with cwnd == ssthresh == `segments` SMSS.
void enter_congestion_avoidance(Flow& f, std::uint32_t segments, std::uint32_t smss) {
  f.send(2 * segments * smss);
  f.timeout();  // ssthresh = FlightSize/2 = segments*SMSS
  ASSERT_EQ(f.cc().ssthresh(), segments * smss);
  while (f.cc().window() < f.cc().ssthresh()) {
    f.ack(smss);
  }
  ASSERT_EQ(f.cc().window(), segments * smss);
  f.send(1000 * segments * smss);  // plenty outstanding for what follows
}

TEST(CongestionAvoidance, ByteCountingAddsOneSmssPerWindowAcked) {
  Flow f;
  enter_congestion_avoidance(f, 10, kSmss);
  std::uint32_t cwnd = 10 * kSmss;
  for (int rtt = 0; rtt < 3; ++rtt) {
    const std::uint32_t segments = cwnd / kSmss;  // one RTT's worth of ACKs
    for (std::uint32_t i = 1; i < segments; ++i) {
      f.ack(kSmss);
      EXPECT_EQ(f.cc().window(), cwnd) << "rtt " << rtt << " ack " << i;
    }
    f.ack(kSmss);  // the byte count reaches cwnd
    cwnd += kSmss;
    EXPECT_EQ(f.cc().window(), cwnd) << "rtt " << rtt;
  }
}

TEST(CongestionAvoidance, DelayedAcksStillGrowOneSmssPerRtt) {  // the point of byte counting
  Flow f;
  enter_congestion_avoidance(f, 10, kSmss);
  for (int i = 0; i < 5; ++i) {  // 10 segments, acknowledged two at a time
    f.ack(2 * kSmss);
  }
  EXPECT_EQ(f.cc().window(), 10 * kSmss + kSmss);
}

TEST(CongestionAvoidance, DelayedAcksOverManyRttsFollowRfc3465Counting) {
  Flow f;
  enter_congestion_avoidance(f, 10, kSmss);
  // RFC 3465 2.1 as written: bytes_acked += acked; if bytes_acked >= cwnd:
  // bytes_acked -= cwnd, cwnd += SMSS. Carries of one segment (odd windows) count.
  std::uint32_t cwnd = 10 * kSmss;
  std::uint32_t bytes_acked = 0;
  for (int i = 0; i < 200; ++i) {
    f.ack(2 * kSmss);
    bytes_acked += 2 * kSmss;
    if (bytes_acked >= cwnd) {
      bytes_acked -= cwnd;
      cwnd += kSmss;
    }
    ASSERT_EQ(f.cc().window(), cwnd) << "ack " << i;
  }
  EXPECT_GT(cwnd, 20 * kSmss);
}

TEST(CongestionAvoidance, AStretchAckAddsAtMostOneSmssAndNoCarry) {  // RFC 5681 3.1 "MUST NOT ... more than SMSS"
  Flow f;
  enter_congestion_avoidance(f, 10, kSmss);
  f.ack(3 * 10 * kSmss);  // three windows at once
  EXPECT_EQ(f.cc().window(), 11 * kSmss);
  f.ack(kSmss);  // the excess must not buy another increase right away
  EXPECT_EQ(f.cc().window(), 11 * kSmss);
}

TEST(CongestionAvoidance, PerAckEquation3) {
  NewRenoConfig config;
  config.congestion_avoidance = CongestionAvoidanceGrowth::PerAck;
  Flow f(config);
  enter_congestion_avoidance(f, 10, kSmss);
  std::uint64_t cwnd = 10 * kSmss;
  for (int i = 0; i < 10; ++i) {  // one RTT's worth of ACKs
    f.ack(kSmss);
    cwnd += std::max<std::uint64_t>(std::uint64_t{kSmss} * kSmss / cwnd, 1);
    EXPECT_EQ(f.cc().window(), cwnd);
  }
  // "roughly 1 full-sized segment per RTT", never more.
  EXPECT_LE(cwnd - 10 * kSmss, kSmss);
  EXPECT_GE(cwnd - 10 * kSmss, kSmss * 9 / 10);
}

TEST(CongestionAvoidance, PerAckRoundsAZeroIncreaseUpToOneByte) {  // RFC 5681 3.1 implementation note
  NewRenoConfig config;
  config.congestion_avoidance = CongestionAvoidanceGrowth::PerAck;
  constexpr std::uint32_t smss = 10;  // SMSS*SMSS = 100 < cwnd = 200
  Flow f(config, smss);
  enter_congestion_avoidance(f, 20, smss);
  ASSERT_EQ(std::uint64_t{smss} * smss / (20 * smss), 0u);
  f.ack(smss);
  EXPECT_EQ(f.cc().window(), 20 * smss + 1);
}

TEST(CongestionAvoidance, WindowNeverExceedsOneGib) {
  Flow f({}, 65535);
  f.send(std::numeric_limits<std::uint32_t>::max() / 2);
  // Slow start with ssthresh at its ceiling: about 16k ACKs reach the cap.
  for (int i = 0; i < 20'000; ++i) {
    f.ack(65535);
    f.send(65535);
  }
  EXPECT_EQ(f.cc().window(), 1u << 30);
}

// ---------------------------------------------------------------- fast retransmit / recovery

// A flow with ten full segments outstanding, before any duplicate ACK.
class Recovery : public ::testing::Test {
 protected:
  void SetUp() override {
    f.send_segments(10);
    flight = f.flight();
    ASSERT_EQ(flight, 10 * kSmss);
  }
  Flow f;
  std::uint32_t flight = 0;
};

TEST_F(Recovery, ThirdDuplicateAckRetransmitsOnce) {
  const std::uint32_t iw = rfc6928_iw(10, kSmss);
  EXPECT_EQ(f.dup(), CongestionAction::None);
  EXPECT_EQ(f.dup(), CongestionAction::None);
  EXPECT_EQ(f.cc().window(), iw);  // RFC 5681 3.2 step 1: cwnd unchanged
  EXPECT_FALSE(f.cc().in_recovery());

  EXPECT_EQ(f.dup(), CongestionAction::RetransmitFirstUnacked);
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().window(), ssthresh + 3 * kSmss);
  EXPECT_TRUE(f.cc().in_recovery());
  EXPECT_EQ(f.cc().counters().fast_retransmits, 1u);

  // Step 4: every further duplicate inflates by one SMSS and retransmits nothing.
  for (std::uint32_t i = 1; i <= 5; ++i) {
    EXPECT_EQ(f.dup(), CongestionAction::None);
    EXPECT_EQ(f.cc().window(), ssthresh + 3 * kSmss + i * kSmss);
  }
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().counters().fast_retransmits, 1u);
}

TEST_F(Recovery, AnAckThatMovesUnaRestartsTheCount) {  // RFC 5681 3.2 "without any intervening ACKs"
  f.dups(2);
  f.ack(kSmss);
  EXPECT_EQ(f.dups(2), CongestionAction::None);
  EXPECT_FALSE(f.cc().in_recovery());
  EXPECT_EQ(f.dup(), CongestionAction::RetransmitFirstUnacked);
}

TEST_F(Recovery, InflationIsLimitedToWhatIsOutstanding) {  // RFC 5681 3.2 step 4 note
  f.dups(3);
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  for (int i = 0; i < 100; ++i) {
    f.dup();
  }
  // Ten segments outstanding: at most ten SMSS of inflation.
  EXPECT_EQ(f.cc().window(), ssthresh + flight);
}

TEST(FastRetransmit, ConfigurableThreshold) {  // the inflation is one SMSS per duplicate counted
  NewRenoConfig config;
  config.duplicate_ack_threshold = 2;
  Flow g(config);
  g.send_segments(10);
  EXPECT_EQ(g.dup(), CongestionAction::None);
  EXPECT_EQ(g.dup(), CongestionAction::RetransmitFirstUnacked);
  EXPECT_EQ(g.cc().window(), eqn4(10 * kSmss, kSmss) + 2 * kSmss);
}

TEST_F(Recovery, PartialAckRetransmitsAndDeflates) {  // RFC 6582 3.2 step 3 (partial)
  f.dups(3);
  f.dup();  // cwnd = ssthresh + 4 SMSS
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  std::uint32_t cwnd = ssthresh + 4 * kSmss;
  ASSERT_EQ(f.cc().window(), cwnd);

  // The retransmission filled the first hole; a second one at segment 5 remains.
  EXPECT_EQ(f.ack(5 * kSmss), CongestionAction::RetransmitFirstUnacked);
  cwnd = cwnd - 5 * kSmss + kSmss;
  EXPECT_EQ(f.cc().window(), cwnd);
  EXPECT_TRUE(f.cc().in_recovery());
  EXPECT_EQ(f.cc().counters().partial_acks, 1u);

  // Less than one SMSS acknowledged: no SMSS is added back.
  EXPECT_EQ(f.ack(500), CongestionAction::RetransmitFirstUnacked);
  cwnd -= 500;
  EXPECT_EQ(f.cc().window(), cwnd);

  // Duplicates after a partial ACK go back to step 4.
  EXPECT_EQ(f.dup(), CongestionAction::None);
  cwnd += kSmss;
  EXPECT_EQ(f.cc().window(), cwnd);
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().counters().partial_acks, 2u);
  EXPECT_EQ(f.cc().counters().fast_retransmits, 1u);
}

TEST_F(Recovery, PartialAckNeverDeflatesBelowOneSegment) {
  f.dups(3);
  // More data acknowledged than cwnd (possible once lots of new data went out in recovery).
  const SeqNum recover = f.nxt();
  f.send_segments(100);
  const std::uint32_t cwnd = f.cc().window();
  ASSERT_GT(flight - 1000, cwnd);
  EXPECT_EQ(f.ack_to(recover - SeqLen{1000}), CongestionAction::RetransmitFirstUnacked);
  EXPECT_EQ(f.cc().window(), kSmss);  // max(0, cwnd - acked) + SMSS
  // Deflating 500 bytes more would leave less than a segment: floored at one SMSS,
  // so the retransmission this ACK asks for fits in the window.
  EXPECT_EQ(f.ack(500), CongestionAction::RetransmitFirstUnacked);
  EXPECT_EQ(f.cc().window(), kSmss);
  EXPECT_TRUE(f.cc().in_recovery());
}

TEST_F(Recovery, FullAckWithNothingOutstandingEndsRecovery) {  // RFC 6582 3.2 step 3, option (1)
  f.dups(3);
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  EXPECT_EQ(f.ack(flight), CongestionAction::None);
  const std::uint32_t flight_now = f.flight();  // 0
  EXPECT_EQ(f.cc().window(), std::min(ssthresh, std::max(flight_now, kSmss) + kSmss));
  EXPECT_EQ(f.cc().window(), 2 * kSmss);
  EXPECT_FALSE(f.cc().in_recovery());
  EXPECT_EQ(f.cc().counters().recoveries_completed, 1u);
  EXPECT_EQ(f.cc().counters().partial_acks, 0u);
}

TEST_F(Recovery, FullAckWithNewDataOutstanding) {
  f.dups(3);
  const SeqNum recover = f.nxt();
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  f.send_segments(2);  // step 5: new data sent during recovery

  EXPECT_EQ(f.ack_to(recover), CongestionAction::None);  // ACK exactly up to recover is full
  std::uint32_t cwnd = std::min(ssthresh, std::max(f.flight(), kSmss) + kSmss);
  EXPECT_EQ(f.cc().window(), cwnd);
  EXPECT_EQ(cwnd, 3 * kSmss);
  EXPECT_FALSE(f.cc().in_recovery());

  // The next ACK is ordinary slow start again (cwnd < ssthresh).
  f.ack(kSmss);
  cwnd += kSmss;
  EXPECT_EQ(f.cc().window(), cwnd);
}

TEST_F(Recovery, FullAckWithMuchOutstandingDeflatesToSsthresh) {
  f.dups(3);
  const SeqNum recover = f.nxt();
  const std::uint32_t ssthresh = eqn4(flight, kSmss);
  f.send_segments(8);
  f.ack_to(recover);
  EXPECT_EQ(f.cc().window(), std::min(ssthresh, std::max(f.flight(), kSmss) + kSmss));
  EXPECT_EQ(f.cc().window(), ssthresh);
}

// RFC 6582 3.2 step 2 with recover = SND.NXT when recovery began: a new
// loss is only fast-retransmitted once the ACK covers more than recover.
TEST_F(Recovery, NewRecoveryOnlyBeyondRecover) {
  f.dups(3);
  const SeqNum recover = f.nxt();
  f.send_segments(10);
  f.ack_to(recover);  // full ACK, exactly recover
  ASSERT_FALSE(f.cc().in_recovery());
  const std::uint32_t ssthresh = f.cc().ssthresh();
  const std::uint32_t cwnd = f.cc().window();
  // The segment right after recover is lost: its duplicates carry ack == recover,
  // which does not cover more than recover ("ack_number - 1 > recover" fails).
  EXPECT_EQ(f.dups(3), CongestionAction::None);
  EXPECT_EQ(f.cc().counters().suppressed_fast_retransmits, 1u);
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().window(), cwnd);
  // Once SND.UNA is beyond recover, the next third duplicate starts a recovery.
  f.ack(kSmss);
  EXPECT_EQ(f.dups(3), CongestionAction::RetransmitFirstUnacked);
  EXPECT_EQ(f.cc().counters().fast_retransmits, 2u);
}

TEST(FastRetransmit, LossOfTheFirstDataSegmentIsRecovered) {
  // recover starts at ISS (RFC 6582 3.2 step 1); ACKs of ISS+1 cover more than it.
  Flow f;
  f.send_segments(10);
  EXPECT_EQ(f.dups(3), CongestionAction::RetransmitFirstUnacked);
}

// ---------------------------------------------------------------- timeouts

TEST(Timeout, LossWindowAndEquation4) {
  Flow f;
  f.send_segments(10);
  f.timeout();
  EXPECT_EQ(f.cc().ssthresh(), eqn4(10 * kSmss, kSmss));
  EXPECT_EQ(f.cc().window(), kSmss);
  EXPECT_EQ(f.cc().counters().timeouts, 1u);
}

TEST(Timeout, SmallFlightGivesTwoSegments) {
  Flow f;
  f.send(kSmss);
  f.timeout();
  EXPECT_EQ(f.cc().ssthresh(), eqn4(kSmss, kSmss));
  EXPECT_EQ(f.cc().ssthresh(), 2 * kSmss);
}

TEST(Timeout, EndsFastRecovery) {  // RFC 6582 3.2 step 4
  Flow f;
  f.send_segments(10);
  f.dups(3);
  ASSERT_TRUE(f.cc().in_recovery());
  const std::uint32_t flight = f.flight();
  f.timeout();
  EXPECT_FALSE(f.cc().in_recovery());
  EXPECT_EQ(f.cc().window(), kSmss);
  EXPECT_EQ(f.cc().ssthresh(), eqn4(flight, kSmss));
  EXPECT_EQ(f.cc().counters().recoveries_completed, 0u);
}

TEST(Timeout, RepeatedTimeoutHoldsSsthresh) {  // RFC 5681 3.1 "the value of ssthresh is held constant"
  Flow f;
  f.send_segments(20);
  f.timeout();
  const std::uint32_t ssthresh = eqn4(20 * kSmss, kSmss);
  f.rewind_nxt_to_una();
  f.send_segments(1);  // the timer's retransmission
  f.timeout();         // lost again: FlightSize is one segment now, but ssthresh stays
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().window(), kSmss);
  EXPECT_EQ(f.cc().counters().timeouts, 2u);

  // Once the segment is acknowledged, a later timeout applies eqn (4) again.
  f.ack(kSmss);
  f.send_segments(3);
  const std::uint32_t flight = f.flight();
  f.timeout();
  EXPECT_EQ(f.cc().ssthresh(), eqn4(flight, kSmss));
}

// RFC 6582 4: after a timeout, go-back-N resends segments the receiver
// already has; their duplicate ACKs do not cover more than recover and must
// not start a fast retransmit.
TEST(Timeout, NoFastRetransmitBelowRecover) {
  Flow f;
  f.send_segments(10);
  const SeqNum recover = f.nxt();
  f.timeout();
  f.rewind_nxt_to_una();
  f.send_segments(1);
  f.ack(kSmss);  // slow start: cwnd 2 SMSS
  const std::uint32_t ssthresh = f.cc().ssthresh();
  std::uint32_t cwnd = 2 * kSmss;
  ASSERT_EQ(f.cc().window(), cwnd);
  f.send_segments(2);
  for (int i = 0; i < 5; ++i) {  // third, fourth, fifth: none retransmits
    EXPECT_EQ(f.dup(), CongestionAction::None);
  }
  EXPECT_FALSE(f.cc().in_recovery());
  EXPECT_EQ(f.cc().ssthresh(), ssthresh);
  EXPECT_EQ(f.cc().window(), cwnd);
  EXPECT_EQ(f.cc().counters().fast_retransmits, 0u);
  EXPECT_EQ(f.cc().counters().suppressed_fast_retransmits, 1u);

  // Still not when the ACK reaches recover exactly.
  f.send(10 * kSmss);
  f.ack_to(recover);
  EXPECT_EQ(f.dups(3), CongestionAction::None);
  EXPECT_EQ(f.cc().counters().suppressed_fast_retransmits, 2u);

  // One byte beyond recover: the ACK covers more than recover.
  f.ack(1);
  EXPECT_EQ(f.dups(3), CongestionAction::RetransmitFirstUnacked);
  EXPECT_EQ(f.cc().counters().fast_retransmits, 1u);
}

// A caller that rewinds SND.NXT passes a lower snd_nxt to a second timeout;
// recover must stay at the highest sequence number sent.
TEST(Timeout, RecoverKeepsTheHighestSentAcrossRewinds) {
  Flow f;
  f.send_segments(10);
  f.timeout();
  f.rewind_nxt_to_una();
  f.send_segments(1);
  f.timeout();  // snd_nxt is now only one segment past SND.UNA
  f.rewind_nxt_to_una();
  f.send_segments(6);
  f.ack(5 * kSmss);  // still 5 segments short of the first recover
  EXPECT_EQ(f.dups(3), CongestionAction::None);
  EXPECT_EQ(f.cc().counters().suppressed_fast_retransmits, 1u);
}

// RFC 6582 6: recover must not block fast retransmit after SND.UNA has moved
// more than 2^31 bytes beyond it.
TEST(Timeout, RecoverDoesNotBlockAfterTheSequenceSpaceWraps) {
  Flow f;
  f.send_segments(10);
  f.timeout();
  constexpr std::uint32_t kChunk = 1u << 30;
  for (int i = 0; i < 3; ++i) {  // 3 GiB acknowledged
    f.send(kChunk);
    f.ack(f.flight() - 10 * kSmss);
  }
  EXPECT_EQ(f.dups(3), CongestionAction::RetransmitFirstUnacked);
}

// ---------------------------------------------------------------- counters

TEST(Counters, OneOfEach) {
  Flow f;
  f.send_segments(10);
  const SeqNum recover = f.nxt();
  f.dups(3);                    // fast retransmit
  f.ack(2 * kSmss);             // partial
  f.ack_to(recover);            // full: recovery completed
  f.send_segments(5);
  f.timeout();
  f.dups(3);                    // below recover: suppressed
  const CongestionCounters& c = f.cc().counters();
  EXPECT_EQ(c.fast_retransmits, 1u);
  EXPECT_EQ(c.partial_acks, 1u);
  EXPECT_EQ(c.recoveries_completed, 1u);
  EXPECT_EQ(c.timeouts, 1u);
  EXPECT_EQ(c.suppressed_fast_retransmits, 1u);
}

}  // namespace
}  // namespace tapstack::tcp
