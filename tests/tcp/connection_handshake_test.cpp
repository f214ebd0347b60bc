// Connection establishment, one tcp::Connection driven directly (RFC 9293 3.5,
// 3.10.1, 3.10.7.2-3.10.7.4): LISTEN, SYN-SENT, SYN-RECEIVED, simultaneous
// open, handshake retransmission, and the SYN options (MSS, RFC 6691 / RFC
// 9293 3.7.1; window scale, RFC 7323 2). Tests are named after the transition
// of the RFC 9293 3.3.2 state diagram they cover.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/tcp/connection_fixture.hpp"

namespace tapstack::tcp::test {
namespace {

// ---------------------------------------------------------------- CLOSED

TEST_F(ConnectionTest, ClosedToListenOnPassiveOpen) {
  conn().open_passive();
  expect_state(TcpState::Listen);
  expect_nothing_sent();
  EXPECT_TRUE(conn().passive());
  EXPECT_EQ(entered(TcpState::Listen), 1U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(ConnectionTest, ClosedToSynSentOnActiveOpen) {
  conn().open_active(now_);
  expect_state(TcpState::SynSent);
  const SentSegment s = expect_sent(kSyn, kIss);
  // RFC 9293 3.7.1: the SYN announces our MSS; RFC 7323 2.2: it offers window scaling; the window
  // of a SYN is never scaled.
  EXPECT_EQ(s.header.options.mss(), kLocalMss);
  EXPECT_EQ(s.header.options.window_scale(), std::uint8_t{0});  // 8000 bytes need no shift
  EXPECT_EQ(s.window(), kReceiveBuffer);
  EXPECT_EQ(s.len(), 0U);
  expect_nothing_sent();
  EXPECT_FALSE(conn().passive());
  EXPECT_EQ(conn().snd_nxt(), kIss + 1);
  EXPECT_EQ(conn().snd_una(), kIss);
  EXPECT_EQ(counters_.active_opens, 1U);
  // RFC 6298 2.1: the first RTO is 1 s.
  EXPECT_EQ(until_deadline(), Duration::seconds(1));
}

TEST_F(ConnectionTest, ClosedIgnoresSegments) {
  // 3.10.7.1 is the layer's (it answers with RST); the connection itself does nothing.
  ack(remote(0), local(0));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- LISTEN

TEST_F(ListenFixture, ListenToSynReceivedOnSyn) {
  syn(kIrs);
  const SentSegment s = expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(s.header.options.mss(), kLocalMss);
  // RFC 7323 2.2: no window scale in the SYN,ACK when the SYN offered none.
  EXPECT_EQ(s.header.options.window_scale(), std::nullopt);
  EXPECT_EQ(s.window(), kReceiveBuffer);
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
  EXPECT_EQ(conn().rcv_nxt(), remote(0));
  EXPECT_EQ(conn().snd_nxt(), kIss + 1);
  EXPECT_EQ(conn().snd_una(), kIss);
  EXPECT_EQ(conn().snd_wnd(), kPeerWindow);
  EXPECT_EQ(conn().send_mss(), kPeerMss);
  EXPECT_EQ(until_deadline(), Duration::seconds(1));
  EXPECT_EQ(entered(TcpState::SynReceived), 1U);
}

TEST_F(ListenFixture, ListenIgnoresRst) {
  // 3.10.7.2 first: a RST cannot be valid in LISTEN.
  rst(kIrs);
  expect_nothing_sent();
  expect_state(TcpState::Listen);
  rst_ack(kIrs, kIss + 1);
  expect_nothing_sent();
  expect_state(TcpState::Listen);
}

TEST_F(ListenFixture, ListenAnswersAckWithRst) {
  // 3.10.7.2 second: <SEQ=SEG.ACK><CTL=RST>.
  ack(kIrs, SeqNum{12345});
  expect_sent(kRst, SeqNum{12345});
  expect_nothing_sent();
  EXPECT_EQ(counters_.tx_rst, 1U);
}

TEST_F(ListenFixture, ListenDropsSegmentWithoutSynOrAck) {
  // 3.10.7.2 fourth: drop.
  segment(kFin, kIrs, SeqNum{0});
  expect_nothing_sent();
  EXPECT_NE(conn().state(), TcpState::SynReceived);
}

TEST_F(ListenFixture, ListenToClosedOnClose) {
  conn().shutdown(now_);
  expect_state(TcpState::Closed);
  expect_nothing_sent();
}

TEST_F(ListenFixture, ListenToClosedOnAbort) {
  conn().abort(now_);
  expect_state(TcpState::Closed);
  expect_nothing_sent();
}

TEST_F(ListenFixture, ListenTakesNoSend) {
  // Figure 5's LISTEN --SEND--> SYN-SENT needs a fully specified remote socket; the Stack's
  // listeners have none (their connections exist only for a SYN), so SEND takes nothing here.
  EXPECT_EQ(user_send(100), 0U);
  expect_nothing_sent();
  expect_state(TcpState::Listen);
}

TEST_F(ListenFixture, SynWithoutMssOptionUsesDefault536) {
  // RFC 9293 3.7.1 / RFC 6691: no MSS option means 536.
  syn(kIrs, SynOptions{.mss = std::nullopt});
  expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(conn().send_mss(), 536);
}

TEST_F(ListenFixture, PeerMssAboveOursIsCappedByOurs) {
  // Eff.snd.MSS = min(SendMSS, MMS_S - 40): we cannot send more than our MTU allows.
  syn(kIrs, SynOptions{.mss = 9000});
  expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(conn().send_mss(), kLocalMss);
}

TEST_F(ListenFixture, TinyPeerMssIsRaisedToFloor) {
  // A peer announcing MSS 1 would make us cut the stream into 1-byte segments (CVE-2019-11479).
  syn(kIrs, SynOptions{.mss = 1});
  expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(conn().send_mss(), 64);
}

TEST_F(ListenFixture, DataOnSynIsNotAcknowledged) {
  // 3.10.7.2 allows queuing it; this implementation drops it, so the SYN,ACK must not cover it.
  const ByteVector data = pattern(10);
  syn(kIrs, SynOptions{.payload = data});
  expect_sent(kSynAck, kIss, remote(0));
  ack(remote(0), local(0));
  expect_state(TcpState::Established);
  EXPECT_EQ(conn().readable(), 0U);
}

// Window scaling (RFC 7323 2) with a receive buffer that needs a shift.
class ListenScaledFixture : public ListenFixture {
 protected:
  void configure(TcpLimits& limits) override { limits.receive_buffer_bytes = 256 * 1024; }
};

TEST_F(ListenScaledFixture, WindowScaleNegotiatedWhenBothSynsCarryIt) {
  syn(kIrs, SynOptions{.window_scale = 7});
  const SentSegment synack = expect_sent(kSynAck, kIss, remote(0));
  // 256 KiB needs a shift of 3 to fit 16 bits (2^16 << 2 = 256 KiB exactly, which does not fit).
  EXPECT_EQ(synack.header.options.window_scale(), std::uint8_t{3});
  EXPECT_EQ(synack.window(), 0xffff);  // a SYN's window is never scaled
  // The ACK's window is scaled by the peer's shift.
  ack(remote(0), local(0), {}, 100);
  expect_state(TcpState::Established);
  EXPECT_EQ(conn().snd_wnd(), 100U << 7);
  // Our windows are sent scaled by our shift.
  const ByteVector data = pattern(10);
  ack(remote(0), local(0), data, 100);
  ack(remote(10), local(0), data, 100);
  const SentSegment s = expect_sent(kAck, local(0), remote(20));
  EXPECT_EQ(std::size_t{s.window()} << 3, 256U * 1024 - 20 - 4);  // rounded down to the scale
}

TEST_F(ListenScaledFixture, WindowScaleAbove14IsTakenAs14) {
  syn(kIrs, SynOptions{.window_scale = 20});
  expect_sent(kSynAck, kIss, remote(0));
  ack(remote(0), local(0), {}, 1);
  EXPECT_EQ(conn().snd_wnd(), 1U << 14);
}

TEST_F(ListenScaledFixture, NoWindowScalingWhenSynLacksIt) {
  syn(kIrs);
  const SentSegment synack = expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(synack.header.options.window_scale(), std::nullopt);
  ack(remote(0), local(0), {}, 100);
  EXPECT_EQ(conn().snd_wnd(), 100U);
  const ByteVector data = pattern(10);
  ack(remote(0), local(0), data, 100);
  ack(remote(10), local(0), data, 100);
  const SentSegment s = expect_sent(kAck, local(0), remote(20));
  // Unscaled, the window is capped at 65535; the right edge offered in the SYN,ACK stays put
  // until an MSS more is free (receiver SWS avoidance, RFC 9293 3.8.6.2.2).
  EXPECT_EQ(s.window(), 0xffff - 20);
}

// ---------------------------------------------------------------- SYN-RECEIVED (passive)

TEST_F(SynReceivedFixture, SynReceivedToEstablishedOnAckOfSyn) {
  ack(remote(0), local(0));
  expect_state(TcpState::Established);
  expect_nothing_sent();
  EXPECT_EQ(conn().snd_una(), local(0));
  EXPECT_EQ(conn().snd_wnd(), kPeerWindow);
  EXPECT_EQ(conn().deadline(), Instant::never());
  const std::uint32_t events = conn().take_events();
  EXPECT_TRUE(events & tcp_event::Connected);
  EXPECT_TRUE(events & tcp_event::Writable);
  EXPECT_EQ(counters_.established, 1U);
  EXPECT_EQ(entered(TcpState::Established), 1U);
}

TEST_F(SynReceivedFixture, SynReceivedToEstablishedOnAckCarryingData) {
  const ByteVector data = pattern(100);
  ack(remote(0), local(0), data);
  expect_state(TcpState::Established);
  EXPECT_EQ(conn().readable(), 100U);
  EXPECT_EQ(user_receive(200), data);
  // One segment: the ACK is delayed (RFC 9293 3.8.6.3), at most tcp.delayed_ack.
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), limits_.delayed_ack);
  expect_sent(kAck, local(0), remote(100));
  EXPECT_EQ(counters_.tx_acks_delayed, 1U);
}

TEST_F(SynReceivedFixture, SynReceivedToEstablishedOnFinAckThenCloseWait) {
  // The handshake's ACK can carry the peer's FIN: ESTABLISHED, then CLOSE-WAIT (3.10.7.4 eighth).
  fin(remote(0), local(0));
  expect_sent(kAck, local(0), remote(1));
  expect_state(TcpState::CloseWait);
  EXPECT_EQ(entered(TcpState::Established), 1U);
}

TEST_F(SynReceivedFixture, SynReceivedToListenOnRst) {
  // Note 1 of figure 5: a passive connection goes back to LISTEN. Here the listener is the
  // Stack's; this TCB ends (CLOSED) without an error for anybody.
  rst(remote(0));
  expect_state(TcpState::Closed);
  expect_nothing_sent();
  EXPECT_EQ(conn().error(), std::nullopt);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(SynReceivedFixture, SynReceivedChallengesInWindowRst) {
  // RFC 5961 3.2: a RST in the window but not at RCV.NXT gets a challenge ACK.
  rst(remote(100));
  expect_sent(kAck, local(0), remote(0));
  expect_state(TcpState::SynReceived);
  EXPECT_EQ(counters_.challenge_acks, 1U);
}

TEST_F(SynReceivedFixture, SynReceivedDropsRstOutsideWindow) {
  rst(remote(0) + kReceiveBuffer);
  expect_nothing_sent();
  rst(remote(0) - 1);
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
  EXPECT_EQ(counters_.rx_out_of_window_rst, 2U);
}

TEST_F(SynReceivedFixture, SynReceivedAnswersUnacceptableAckWithRst) {
  // 3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT or <SEQ=SEG.ACK><CTL=RST>.
  ack(remote(0), local(5));
  expect_sent(kRst, local(5));
  expect_state(TcpState::SynReceived);
  ack(remote(0), kIss);
  expect_sent(kRst, kIss);
  expect_state(TcpState::SynReceived);
  expect_nothing_sent();
}

TEST_F(SynReceivedFixture, SynReceivedDropsSegmentWithoutAck) {
  const ByteVector data = pattern(10);
  segment(kPsh, remote(0), SeqNum{0}, data);
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
  EXPECT_EQ(conn().readable(), 0U);
}

TEST_F(SynReceivedFixture, SynReceivedResendsSynAckOnRetransmittedSyn) {
  // The peer did not get our SYN,ACK and sent its SYN again.
  syn(kIrs);
  expect_sent(kSynAck, kIss, remote(0));
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
}

TEST_F(SynReceivedFixture, SynReceivedToListenOnNewSynInWindow) {
  // RFC 9293 3.10.7.4 fourth, SYN-RECEIVED: a connection from a passive OPEN returns to LISTEN.
  syn(remote(10));
  expect_state(TcpState::Closed);
  expect_nothing_sent();
  EXPECT_EQ(conn().error(), std::nullopt);
}

TEST_F(SynReceivedFixture, SynReceivedAcksUnacceptableSegment) {
  const ByteVector data = pattern(10);
  ack(remote(0) + kReceiveBuffer, local(0), data);
  expect_sent(kAck, local(0), remote(0));
  expect_state(TcpState::SynReceived);
  EXPECT_EQ(counters_.rx_unacceptable, 1U);
}

TEST_F(SynReceivedFixture, SynReceivedRetransmitsSynAckWithBackoffThenTimesOut) {
  // RFC 6298 5.4-5.5: resend, double the RTO; RFC 1122 4.2.3.5: give up after the limit.
  Duration expected = Duration::seconds(1);
  for (std::uint32_t i = 0; i < limits_.syn_retransmissions_max; ++i) {
    EXPECT_EQ(fire_next_timer(), expected) << "retransmission " << i;
    expect_sent(kSynAck, kIss, remote(0));
    expect_nothing_sent();
    expect_state(TcpState::SynReceived);
    expected = std::min(expected + expected, limits_.rto.max_rto);  // RFC 6298 5.5, 2.5
  }
  EXPECT_EQ(fire_next_timer(), expected);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::TimedOut);
  EXPECT_TRUE(conn().take_events() & tcp_event::TimedOut);
  EXPECT_EQ(counters_.timeouts, 1U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(SynReceivedFixture, SynReceivedAfterLostSynAckStartsWithOneSegmentWindow) {
  // RFC 5681 3.1: "if the SYN or SYN/ACK is lost, the initial window ... MUST be one segment".
  fire_next_timer();
  expect_sent(kSynAck, kIss, remote(0));
  ack(remote(0), local(0));
  expect_state(TcpState::Established);
  EXPECT_EQ(conn().cwnd(), kPeerMss);
  EXPECT_EQ(user_send(5000), 5000U);
  expect_segment({.flags = kAck, .seq = local(0), .len = kPeerMss});
  expect_nothing_sent();
}

TEST_F(SynReceivedFixture, SynReceivedWithoutLossStartsWithInitialWindow) {
  // RFC 6928: min(10 * SMSS, max(2 * SMSS, 14600)).
  ack(remote(0), local(0));
  EXPECT_EQ(conn().cwnd(), 10U * kPeerMss);
}

TEST_F(SynReceivedFixture, SynReceivedTakesRttSampleFromSynAck) {
  // RFC 6298 2.2: the first sample R gives SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR.
  now_ += Duration::milliseconds(100);
  ack(remote(0), local(0));
  EXPECT_EQ(conn().rto(), Duration::milliseconds(300));
}

TEST_F(SynReceivedFixture, SynReceivedToFinWait1OnCloseOnceSynIsAcked) {
  // 3.10.4 SYN-RECEIVED: the FIN is queued until ESTABLISHED, then sent (FIN-WAIT-1).
  conn().shutdown(now_);
  expect_nothing_sent();
  ack(remote(0), local(0));
  expect_sent(kFinAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::FinWait1);
  EXPECT_EQ(entered(TcpState::Established), 1U);
  ack(remote(0), local(1));
  expect_state(TcpState::FinWait2);
}

TEST_F(SynReceivedFixture, SynReceivedAbortSendsRst) {
  // 3.10.5: <SEQ=SND.NXT><CTL=RST>.
  conn().abort(now_);
  expect_sent(kRst, local(0));
  expect_state(TcpState::Closed);
}

// ---------------------------------------------------------------- SYN-SENT

TEST_F(SynSentFixture, SynSentToEstablishedOnSynAck) {
  now_ += Duration::milliseconds(40);
  syn_ack(kIrs, local(0));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_EQ(conn().rcv_nxt(), remote(0));
  EXPECT_EQ(conn().snd_una(), local(0));
  EXPECT_EQ(conn().snd_wnd(), kPeerWindow);
  EXPECT_EQ(conn().send_mss(), kPeerMss);
  EXPECT_EQ(conn().deadline(), Instant::never());
  EXPECT_TRUE(conn().take_events() & tcp_event::Connected);
  // RFC 6298 2.2: 40 ms + 4 * 20 ms = 120 ms, below the 200 ms floor.
  EXPECT_EQ(conn().rto(), limits_.rto.min_rto);
}

TEST_F(SynSentFixture, SynSentToEstablishedDeliversDataOnSynAck) {
  const ByteVector data = pattern(300);
  syn_ack(kIrs, local(0), SynOptions{.payload = data});
  expect_sent(kAck, local(0), remote(300));
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_EQ(user_receive(1000), data);
}

TEST_F(SynSentFixture, SynSentToEstablishedThenCloseWaitOnSynAckWithFin) {
  Segment seg;
  seg.seq = kIrs;
  seg.ack = local(0);
  seg.flags = kSynAck | kFin;
  seg.window = kPeerWindow;
  seg.mss = kPeerMss;
  deliver(seg);
  expect_sent(kAck, local(0), remote(1));
  expect_state(TcpState::CloseWait);
  EXPECT_TRUE(conn().peer_closed());
}

TEST_F(SynSentFixture, SynSentSendsQueuedDataWithTheHandshakeAck) {
  // 3.10.7.3 fourth: "Data or controls that were queued for transmission MAY be included".
  EXPECT_EQ(user_send(100), 100U);
  expect_nothing_sent();
  syn_ack(kIrs, local(0));
  expect_segment({.flags = kPshAck, .seq = local(0), .ack = remote(0), .payload = pattern(100)});
  expect_nothing_sent();
}

TEST_F(SynSentFixture, SynSentToSynReceivedOnSyn) {
  // Simultaneous open (3.5 figure 8): SYN-SENT -> SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
  syn(kIrs);
  const SentSegment s = expect_sent(kSynAck, kIss, remote(0));
  EXPECT_EQ(s.header.options.mss(), kLocalMss);
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
  EXPECT_FALSE(conn().passive());
  // The SYN,ACK is retransmitted until acknowledged.
  fire_next_timer();
  expect_sent(kSynAck, kIss, remote(0));
}

TEST_F(SynSentFixture, SimultaneousOpenReachesEstablishedOnAck) {
  syn(kIrs);
  expect_sent(kSynAck, kIss, remote(0));
  ack(remote(0), local(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_TRUE(conn().take_events() & tcp_event::Connected);
}

TEST_F(SynSentFixture, SimultaneousOpenAnswersPeersSynAckThenEstablishes) {
  // Figure 8 line 6: the peer's SYN,ACK (SEQ=IRS) fails the sequence check of 3.10.7.4 (it lies
  // below RCV.NXT), so it is answered by <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, never a RST. The
  // peer answers ours the same way, and that ACK completes the handshake.
  syn(kIrs);
  expect_sent(kSynAck, kIss, remote(0));
  syn_ack(kIrs, local(0));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::SynReceived);
  ack(remote(0), local(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
}

TEST_F(SynSentFixture, SimultaneousOpenRstRefusesConnection) {
  // 3.10.7.4 second, SYN-RECEIVED from an active OPEN: "connection refused", CLOSED.
  syn(kIrs);
  expect_sent(kSynAck, kIss, remote(0));
  rst(remote(0));
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionRefused);
  EXPECT_TRUE(conn().take_events() & tcp_event::Refused);
}

TEST_F(SynSentFixture, SynSentAnswersUnacceptableAckWithRst) {
  // 3.10.7.3 first: SEG.ACK =< ISS or SEG.ACK > SND.NXT: <SEQ=SEG.ACK><CTL=RST>, stay.
  syn_ack(kIrs, kIss);
  expect_sent(kRst, kIss);
  syn_ack(kIrs, local(1));
  expect_sent(kRst, local(1));
  ack(kIrs, kIss - 1000);
  expect_sent(kRst, kIss - 1000);
  expect_nothing_sent();
  expect_state(TcpState::SynSent);
}

TEST_F(SynSentFixture, SynSentDropsRstWithUnacceptableAck) {
  rst_ack(kIrs, local(5));
  expect_nothing_sent();
  expect_state(TcpState::SynSent);
}

TEST_F(SynSentFixture, SynSentToClosedOnRstWithAcceptableAck) {
  // 3.10.7.3 second: "connection reset" (refused), CLOSED.
  rst_ack(SeqNum{0}, local(0));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionRefused);
  EXPECT_TRUE(conn().take_events() & tcp_event::Refused);
  EXPECT_EQ(counters_.resets_received, 1U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(SynSentFixture, SynSentIgnoresRstWithoutAck) {
  rst(kIrs);
  expect_nothing_sent();
  expect_state(TcpState::SynSent);
}

TEST_F(SynSentFixture, SynSentDropsSegmentWithoutSynOrRst) {
  // 3.10.7.3 fifth.
  ack(kIrs, local(0));
  const ByteVector data = pattern(10);
  segment(kFinAck, kIrs, local(0), data);
  expect_nothing_sent();
  expect_state(TcpState::SynSent);
}

TEST_F(SynSentFixture, SynSentToClosedOnClose) {
  // 3.10.4 SYN-SENT: delete the TCB, nothing sent. (tcp_close: the user released the socket.)
  conn().set_orphaned();
  conn().shutdown(now_);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(SynSentFixture, SynSentHalfCloseSendsFinOnceEstablished) {
  // tcp_shutdown is a half close: the user still reads, so the TCB stays and the FIN follows the
  // handshake (3.10.4 allows queuing the CLOSE as in SYN-RECEIVED).
  conn().shutdown(now_);
  expect_nothing_sent();
  expect_state(TcpState::SynSent);
  syn_ack(kIrs, local(0));
  expect_state(TcpState::FinWait1);
  expect_sent(kFinAck, local(0), remote(0));
}

TEST_F(SynSentFixture, SynSentToClosedOnAbortWithoutRst) {
  // 3.10.5 SYN-SENT: no RST (nothing is synchronized).
  conn().abort(now_);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
}

TEST_F(SynSentFixture, SynSentRetransmitsSynWithBackoffThenTimesOut) {
  Duration expected = Duration::seconds(1);
  for (std::uint32_t i = 0; i < limits_.syn_retransmissions_max; ++i) {
    EXPECT_EQ(fire_next_timer(), expected) << "retransmission " << i;
    const SentSegment s = expect_sent(kSyn, kIss);
    EXPECT_EQ(s.header.options.mss(), kLocalMss);
    expect_nothing_sent();
    expected = std::min(expected + expected, limits_.rto.max_rto);  // RFC 6298 5.5, 2.5
  }
  EXPECT_EQ(fire_next_timer(), expected);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::TimedOut);
  EXPECT_TRUE(conn().take_events() & tcp_event::TimedOut);
  EXPECT_EQ(counters_.timeouts, 1U);
}

TEST_F(SynSentFixture, SynSentAfterLostSynStartsWithOneSegmentWindow) {
  // RFC 5681 3.1: after a lost SYN the initial window is one segment.
  fire_next_timer();
  expect_sent(kSyn, kIss);
  syn_ack(kIrs, local(0));
  expect_sent(kAck, local(0), remote(0));
  EXPECT_EQ(conn().cwnd(), kPeerMss);
  // Karn (RFC 6298 3): the SYN,ACK answers a retransmitted SYN, so no RTT sample is taken.
  EXPECT_GE(conn().rto(), Duration::seconds(2));
}

TEST_F(SynSentFixture, SynSentWithoutLossStartsWithInitialWindow) {
  syn_ack(kIrs, local(0));
  expect_sent(kAck, local(0), remote(0));
  EXPECT_EQ(conn().cwnd(), 10U * kPeerMss);
  EXPECT_EQ(user_send(20000), 20000U);
  for (std::uint32_t i = 0; i < 10; ++i) {
    expect_segment({.flags = kAck, .seq = local(i * 1000), .ack = remote(0), .len = 1000});
  }
  expect_nothing_sent();
}

// ---------------------------------------------------------------- ESTABLISHED from the active side

TEST_F(EstablishedFromActiveFixture, TransfersBothWays) {
  EXPECT_EQ(user_send(500, 1), 500U);
  expect_segment({.flags = kPshAck, .seq = local(0), .ack = remote(0), .payload = pattern(500, 1)});
  const ByteVector data = pattern(700, 2);
  ack(remote(0), local(500), data);
  EXPECT_EQ(user_receive(1000), data);
  EXPECT_EQ(conn().unacknowledged(), 0U);
  EXPECT_EQ(conn().deadline(), now_ + limits_.delayed_ack);
}

}  // namespace
}  // namespace tapstack::tcp::test
