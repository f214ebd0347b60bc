// Closing, one tcp::Connection driven directly (RFC 9293 3.6, 3.10.4, 3.10.5,
// 3.10.7.4): FIN-WAIT-1, FIN-WAIT-2, CLOSING, TIME-WAIT (2 * MSL, restarted by
// a retransmitted FIN), CLOSE-WAIT, LAST-ACK, simultaneous close, ABORT and
// RSTs in every closing state, data arriving for a closed socket (RFC 1122
// 4.2.2.13), and keepalive (RFC 1122 4.2.3.6). Tests are named after the
// transition of the RFC 9293 3.3.2 state diagram they cover.

#include <gtest/gtest.h>

#include "tests/tcp/connection_fixture.hpp"

namespace tapstack::tcp::test {
namespace {

Duration two_msl(const TcpLimits& limits) { return limits.msl + limits.msl; }

// ---------------------------------------------------------------- ESTABLISHED -> FIN-WAIT-1 / CLOSE-WAIT

TEST_F(EstablishedFixture, EstablishedToFinWait1OnClose) {
  conn().shutdown(now_);
  expect_sent(kFinAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::FinWait1);
  EXPECT_TRUE(conn().shutdown_called());
  EXPECT_EQ(conn().writable(), 0U);
  EXPECT_EQ(user_send(10), 0U);
  EXPECT_EQ(conn().snd_nxt(), local(1));
  EXPECT_EQ(until_deadline(), conn().rto());  // the FIN is retransmitted until acknowledged
  EXPECT_EQ(entered(TcpState::FinWait1), 1U);
}

TEST_F(EstablishedFixture, EstablishedToFinWait1SendsFinAfterQueuedData) {
  EXPECT_EQ(user_send(500, 1), 500U);
  expect_segment({.flags = kPshAck, .seq = local(0), .len = 500});
  EXPECT_EQ(user_send(300, 2), 300U);
  expect_nothing_sent();  // Nagle: data in flight
  conn().shutdown(now_);
  expect_state(TcpState::FinWait1);
  // 3.10.4: the FIN follows everything queued; it rides on the last data segment.
  expect_segment({.flags = kFinAck | kPsh, .seq = local(500), .payload = pattern(300, 2)});
  expect_nothing_sent();
  ack(remote(0), local(800));
  expect_state(TcpState::FinWait1);  // data acknowledged, not the FIN
  ack(remote(0), local(801));
  expect_state(TcpState::FinWait2);
}

TEST_F(EstablishedFixture, EstablishedToCloseWaitOnFin) {
  fin(remote(0), local(0));
  // 3.10.7.4 eighth: acknowledge the FIN at once.
  expect_sent(kAck, local(0), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::CloseWait);
  EXPECT_TRUE(conn().peer_closed());
  EXPECT_TRUE(conn().take_events() & tcp_event::PeerClosed);
  EXPECT_EQ(conn().error(), std::nullopt);
}

TEST_F(EstablishedFixture, EstablishedToCloseWaitOnFinWithData) {
  const ByteVector data = pattern(300, 4);
  fin(remote(0), local(0), data);
  expect_sent(kAck, local(0), remote(301));
  expect_nothing_sent();
  expect_state(TcpState::CloseWait);
  EXPECT_EQ(user_receive(1000), data);
}

TEST_F(EstablishedFixture, EstablishedToClosedOnAbortSendsRst) {
  EXPECT_EQ(user_send(1000), 1000U);
  expect_segment({.seq = local(0), .len = 1000});
  conn().abort(now_);
  // 3.10.5: <SEQ=SND.NXT><CTL=RST>, queues flushed.
  expect_sent(kRst, local(1000));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(counters_.aborts, 1U);
  EXPECT_EQ(conn().unacknowledged(), 0U);
  EXPECT_EQ(conn().error(), SocketError::ConnectionReset);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

// ---------------------------------------------------------------- FIN-WAIT-1

TEST_F(FinWait1Fixture, FinWait1ToFinWait2OnAckOfFin) {
  ack(remote(0), local(1));
  expect_nothing_sent();
  expect_state(TcpState::FinWait2);
  // Nothing left to retransmit; a connection the user still holds waits for the peer's FIN.
  EXPECT_EQ(conn().deadline(), Instant::never());
  EXPECT_EQ(entered(TcpState::FinWait2), 1U);
}

TEST_F(FinWait1Fixture, FinWait1ToClosingOnFin) {
  fin(remote(0), local(0));
  expect_sent(kAck, local(1), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::Closing);
  EXPECT_TRUE(conn().peer_closed());
  EXPECT_EQ(until_deadline(), conn().rto());  // our FIN still awaits its ACK
}

TEST_F(FinWait1Fixture, FinWait1ToTimeWaitOnFinAckingOurFin) {
  // Note 2 of figure 5: FIN received and our FIN acknowledged by the same segment.
  fin(remote(0), local(1));
  expect_sent(kAck, local(1), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
  EXPECT_EQ(until_deadline(), two_msl(limits_));
}

TEST_F(FinWait1Fixture, FinWait1StillReceivesData) {
  const ByteVector data = pattern(500, 3);
  ack(remote(0), local(0), data);
  expect_state(TcpState::FinWait1);
  EXPECT_EQ(user_receive(1000), data);
  ack(remote(500), local(0), data);
  expect_sent(kAck, local(1), remote(1000));
}

TEST_F(FinWait1Fixture, FinWait1RetransmitsFin) {
  const Duration rto = conn().rto();
  EXPECT_EQ(fire_next_timer(), rto);
  expect_sent(kFinAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), rto + rto);
  expect_sent(kFinAck, local(0), remote(0));
  expect_state(TcpState::FinWait1);
  ack(remote(0), local(1));
  expect_state(TcpState::FinWait2);
  expect_nothing_sent();
}

TEST_F(FinWait1Fixture, FinWait1SecondCloseSendsNoSecondFin) {
  conn().shutdown(now_);
  expect_nothing_sent();
  expect_state(TcpState::FinWait1);
}

TEST_F(FinWait1Fixture, FinWait1ToClosedOnRst) {
  rst(remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionReset);
  EXPECT_TRUE(conn().take_events() & tcp_event::Reset);
}

TEST_F(FinWait1Fixture, FinWait1ToClosedOnAbortSendsRst) {
  conn().abort(now_);
  expect_sent(kRst, local(1));
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- FIN-WAIT-2

TEST_F(FinWait2Fixture, FinWait2ToTimeWaitOnFin) {
  fin(remote(0), local(1));
  expect_sent(kAck, local(1), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
  EXPECT_EQ(until_deadline(), two_msl(limits_));
  EXPECT_TRUE(conn().take_events() & tcp_event::Closed);
}

TEST_F(FinWait2Fixture, FinWait2ReceivesDataThenFin) {
  const ByteVector data = pattern(400, 5);
  ack(remote(0), local(1), data);
  EXPECT_EQ(user_receive(1000), data);
  fin(remote(400), local(1), data);
  expect_sent(kAck, local(1), remote(801));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
  EXPECT_EQ(user_receive(1000), data);
}

TEST_F(FinWait2Fixture, FinWait2HeldByUserWaitsForPeer) {
  advance(Duration::seconds(3600));
  expect_state(TcpState::FinWait2);
  expect_nothing_sent();
}

TEST_F(FinWait1Fixture, FinWait2OrphanedClosesAfter2Msl) {
  // The user released the socket: FIN-WAIT-2 does not wait for the peer forever.
  conn().set_orphaned();
  ack(remote(0), local(1));
  expect_state(TcpState::FinWait2);
  EXPECT_EQ(until_deadline(), two_msl(limits_));
  advance(two_msl(limits_));
  expect_state(TcpState::Closed);
  expect_nothing_sent();
  EXPECT_EQ(counters_.fin_wait_2_timeouts, 1U);
}

TEST_F(FinWait2Fixture, FinWait2ToClosedOnRst) {
  rst(remote(0));
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionReset);
}

TEST_F(FinWait2Fixture, FinWait2ToClosedOnAbortSendsRst) {
  conn().abort(now_);
  expect_sent(kRst, local(1));
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- CLOSING (simultaneous close)

TEST_F(ClosingFixture, ClosingToTimeWaitOnAckOfFin) {
  ack(remote(1), local(1));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
  EXPECT_EQ(until_deadline(), two_msl(limits_));
  EXPECT_EQ(entered(TcpState::Closing), 1U);
}

TEST_F(ClosingFixture, ClosingRetransmitsFin) {
  fire_next_timer();
  expect_sent(kFinAck, local(0), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::Closing);
}

TEST_F(ClosingFixture, ClosingAcksRetransmittedFin) {
  fin(remote(0), local(0));
  expect_sent(kAck, local(1), remote(1));
  expect_state(TcpState::Closing);
}

TEST_F(ClosingFixture, ClosingToClosedOnRst) {
  rst(remote(1));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(ClosingFixture, ClosingToClosedOnAbortWithoutRst) {
  // 3.10.5 CLOSING: "ok", delete the TCB; no RST.
  conn().abort(now_);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(EstablishedFixture, SimultaneousCloseThroughClosingToTimeWait) {
  // 3.6 figure 13: both FINs cross, each side ACKs the other's, both reach TIME-WAIT.
  conn().shutdown(now_);
  expect_sent(kFinAck, local(0), remote(0));
  fin(remote(0), local(0));  // the peer's FIN, sent before ours arrived
  expect_sent(kAck, local(1), remote(1));
  expect_state(TcpState::Closing);
  ack(remote(1), local(1));  // the peer's ACK of our FIN
  expect_state(TcpState::TimeWait);
  expect_nothing_sent();
  advance(two_msl(limits_));
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- TIME-WAIT

TEST_F(TimeWaitFixture, TimeWaitToClosedAfter2Msl) {
  (void)conn().take_events();
  advance(two_msl(limits_) - Duration::nanoseconds(1));
  expect_state(TcpState::TimeWait);
  advance(Duration::nanoseconds(1));
  expect_state(TcpState::Closed);
  expect_nothing_sent();
  EXPECT_TRUE(conn().take_events() & tcp_event::Closed);
  EXPECT_EQ(conn().error(), std::nullopt);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(TimeWaitFixture, TimeWaitRetransmittedFinRestarts2Msl) {
  // 3.10.7.4 eighth, TIME-WAIT: acknowledge it and restart the 2 MSL timeout.
  advance(limits_.msl);
  fin(remote(0), local(1));
  expect_sent(kAck, local(1), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
  EXPECT_EQ(until_deadline(), two_msl(limits_));
  advance(two_msl(limits_) - Duration::nanoseconds(1));
  expect_state(TcpState::TimeWait);
  advance(Duration::nanoseconds(1));
  expect_state(TcpState::Closed);
}

TEST_F(TimeWaitFixture, TimeWaitToClosedOnRst) {
  rst(remote(1));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(TimeWaitFixture, TimeWaitChallengesSyn) {
  // RFC 5961 4.2: the Stack decides on reuse (RFC 6191); the connection only challenges.
  syn(remote(1000));
  expect_sent(kAck, local(1), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
}

TEST_F(TimeWaitFixture, TimeWaitToClosedWhenNewSynTakesTheTuple) {
  conn().end_time_wait();
  expect_state(TcpState::Closed);
  expect_nothing_sent();
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(TimeWaitFixture, TimeWaitToClosedOnAbortWithoutRst) {
  conn().abort(now_);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(TimeWaitFixture, TimeWaitIgnoresClose) {
  conn().shutdown(now_);
  expect_nothing_sent();
  expect_state(TcpState::TimeWait);
}

// ---------------------------------------------------------------- CLOSE-WAIT

TEST_F(CloseWaitFixture, CloseWaitToLastAckOnClose) {
  conn().shutdown(now_);
  expect_sent(kFinAck, local(0), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::LastAck);
  EXPECT_EQ(entered(TcpState::LastAck), 1U);
}

TEST_F(CloseWaitFixture, CloseWaitStillSends) {
  EXPECT_EQ(user_send(300, 6), 300U);
  expect_segment({.flags = kPshAck, .seq = local(0), .ack = remote(1), .payload = pattern(300, 6)});
  expect_nothing_sent();
  ack(remote(1), local(300));
  EXPECT_EQ(conn().unacknowledged(), 0U);
  conn().shutdown(now_);
  expect_sent(kFinAck, local(300), remote(1));
  expect_state(TcpState::LastAck);
}

TEST_F(CloseWaitFixture, CloseWaitToLastAckSendsFinAfterQueuedData) {
  EXPECT_EQ(user_send(100, 1), 100U);
  expect_segment({.seq = local(0), .len = 100});
  EXPECT_EQ(user_send(100, 2), 100U);
  expect_nothing_sent();
  conn().shutdown(now_);
  expect_segment({.flags = kFinAck | kPsh, .seq = local(100), .payload = pattern(100, 2)});
  expect_state(TcpState::LastAck);
}

TEST_F(CloseWaitFixture, CloseWaitIgnoresTextAfterFin) {
  // 3.10.7.4 seventh, CLOSE-WAIT: "This should not occur ... Ignore the segment text."
  const ByteVector data = pattern(10);
  ack(remote(1), local(0), data);
  EXPECT_EQ(conn().readable(), 0U);
  expect_state(TcpState::CloseWait);
}

TEST_F(CloseWaitFixture, CloseWaitAcksRetransmittedFin) {
  fin(remote(0), local(0));
  expect_sent(kAck, local(0), remote(1));
  expect_nothing_sent();
  expect_state(TcpState::CloseWait);
}

TEST_F(CloseWaitFixture, CloseWaitToClosedOnRst) {
  rst(remote(1));
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionReset);
  EXPECT_TRUE(conn().take_events() & tcp_event::Reset);
}

TEST_F(CloseWaitFixture, CloseWaitToClosedOnAbortSendsRst) {
  conn().abort(now_);
  expect_sent(kRst, local(0));
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- LAST-ACK

TEST_F(LastAckFixture, LastAckToClosedOnAckOfFin) {
  ack(remote(1), local(1));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_TRUE(conn().take_events() & tcp_event::Closed);
  EXPECT_EQ(conn().error(), std::nullopt);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(LastAckFixture, LastAckStaysOnAckNotCoveringFin) {
  ack(remote(1), local(0));
  expect_nothing_sent();
  expect_state(TcpState::LastAck);
}

TEST_F(LastAckFixture, LastAckRetransmitsFinThenGivesUp) {
  std::uint32_t fins = 0;
  for (int i = 0; i < 40 && conn().state() == TcpState::LastAck; ++i) {
    fire_next_timer();
    while (sent_count() > 0) {
      expect_sent(kFinAck, local(0), remote(1));
      ++fins;
    }
  }
  EXPECT_EQ(fins, limits_.retransmissions_max);
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::TimedOut);
}

TEST_F(LastAckFixture, LastAckToClosedOnRst) {
  rst(remote(1));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(LastAckFixture, LastAckToClosedOnAbortWithoutRst) {
  conn().abort(now_);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- closed by the user, data arrives

TEST_F(EstablishedFixture, OrphanedConnectionAnswersDataWithRst) {
  // RFC 1122 4.2.2.13: data arriving after CLOSE (nobody will read it) is answered by a RST.
  conn().set_orphaned();
  conn().shutdown(now_);
  expect_sent(kFinAck, local(0), remote(0));
  const ByteVector data = pattern(100);
  ack(remote(0), local(1), data);
  expect_sent(kRst, local(1));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(counters_.rx_data_after_close, 1U);
  EXPECT_EQ(conn().readable(), 0U);
}

TEST_F(FinWait2Fixture, OrphanedFinWait2AnswersDataWithRst) {
  conn().set_orphaned();
  const ByteVector data = pattern(10);
  ack(remote(0), local(1), data);
  expect_sent(kRst, local(1));
  expect_state(TcpState::Closed);
}

TEST_F(FinWait2Fixture, OrphanedFinWait2StillTakesFin) {
  conn().set_orphaned();
  fin(remote(0), local(1));
  expect_sent(kAck, local(1), remote(1));
  expect_state(TcpState::TimeWait);
}

// ---------------------------------------------------------------- keepalive (RFC 1122 4.2.3.6)

class EstablishedKeepalive : public EstablishedFixture {
 protected:
  void configure(TcpLimits& limits) override {
    limits.keepalive_idle = Duration::seconds(10);
    limits.keepalive_interval = Duration::seconds(1);
    limits.keepalive_probes = 3;
  }
};

TEST_F(EstablishedKeepalive, OffByDefault) {
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(EstablishedKeepalive, ProbesAfterIdleAndStaysOpenWhenAnswered) {
  conn().set_keepalive(true, now_);
  EXPECT_EQ(fire_next_timer(), limits_.keepalive_idle);
  // SEG.SEQ = SND.NXT - 1 with no data: the peer must answer with an ACK.
  expect_segment({.flags = kAck, .seq = local(0) - 1, .ack = remote(0), .len = 0});
  expect_nothing_sent();
  EXPECT_EQ(counters_.keepalive_probes, 1U);
  ack(remote(0), local(0));
  expect_nothing_sent();
  EXPECT_EQ(until_deadline(), limits_.keepalive_idle);
  expect_state(TcpState::Established);
}

TEST_F(EstablishedKeepalive, TimesOutAfterUnansweredProbes) {
  conn().set_keepalive(true, now_);
  EXPECT_EQ(fire_next_timer(), limits_.keepalive_idle);
  expect_segment({.seq = local(0) - 1, .len = 0});
  for (std::uint32_t i = 1; i < limits_.keepalive_probes; ++i) {
    EXPECT_EQ(fire_next_timer(), limits_.keepalive_interval);
    expect_segment({.seq = local(0) - 1, .len = 0});
  }
  EXPECT_EQ(fire_next_timer(), limits_.keepalive_interval);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::TimedOut);
  EXPECT_TRUE(conn().take_events() & tcp_event::TimedOut);
  EXPECT_EQ(counters_.keepalive_probes, limits_.keepalive_probes);
  EXPECT_EQ(counters_.timeouts, 1U);
}

TEST_F(EstablishedKeepalive, TrafficPostponesProbe) {
  conn().set_keepalive(true, now_);
  advance(Duration::seconds(8));
  const ByteVector data = pattern(10);
  ack(remote(0), local(0), data);
  advance(limits_.delayed_ack);
  expect_sent(kAck, local(0), remote(10));
  EXPECT_EQ(until_deadline(), limits_.keepalive_idle - limits_.delayed_ack);
  advance(Duration::seconds(5));
  expect_nothing_sent();
}

TEST_F(EstablishedKeepalive, DisablingStopsProbes) {
  conn().set_keepalive(true, now_);
  conn().set_keepalive(false, now_);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

class KeepaliveFromLimits : public SynReceivedFixture {
 protected:
  void configure(TcpLimits& limits) override {
    limits.keepalive = true;
    limits.keepalive_idle = Duration::seconds(10);
  }
};

TEST_F(KeepaliveFromLimits, ArmedWhenEstablished) {
  ack(remote(0), local(0));
  expect_state(TcpState::Established);
  EXPECT_EQ(until_deadline(), limits_.keepalive_idle);
}

}  // namespace
}  // namespace tapstack::tcp::test
