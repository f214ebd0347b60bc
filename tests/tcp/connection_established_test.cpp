// ESTABLISHED, one tcp::Connection driven directly: the acceptability test
// (RFC 9293 3.10.7.4, all four cases), trimming, out-of-order data and
// reassembly, delayed and immediate ACKs (RFC 9293 3.8.6.3, RFC 5681 4.2),
// window updates and receiver SWS avoidance (3.8.6.2.2), Nagle (3.7.4),
// sender SWS avoidance (3.8.6.2.1), zero window and persist probes (3.8.6.1),
// retransmission timeout, backoff and give-up (RFC 6298, RFC 1122 4.2.3.5),
// fast retransmit (RFC 5681 3.2), RFC 5961 challenge ACKs and ACK checks.

#include <gtest/gtest.h>

#include <algorithm>

#include "tests/tcp/connection_fixture.hpp"

namespace tapstack::tcp::test {
namespace {

// The peer's byte stream, handed out in slices.
class Established : public EstablishedFixture {
 protected:
  Established() : stream_(pattern(64 * 1024, 77)) {}

  Bytes slice(std::uint32_t offset, std::size_t len) const { return Bytes{stream_}.subspan(offset, len); }
  ByteVector stream_bytes(std::uint32_t offset, std::size_t len) const {
    const Bytes s = slice(offset, len);
    return ByteVector(s.begin(), s.end());
  }
  // The peer sends stream bytes [offset, offset + len), acknowledging `acked` of our bytes.
  void peer_data(std::uint32_t offset, std::size_t len, std::uint32_t acked = 0,
                 std::optional<std::uint16_t> window = std::nullopt) {
    ack(remote(offset), local(acked), slice(offset, len), window);
  }
  // Fills our receive buffer (kReceiveBuffer bytes, in MSS segments); the window is then zero.
  void fill_receive_buffer() {
    for (std::uint32_t off = 0; off < kReceiveBuffer; off += 1000) {
      peer_data(off, 1000);
    }
    SentSegment last;
    while (sent_count() > 0) {
      last = next_sent();
    }
    EXPECT_EQ(last.ack(), remote(kReceiveBuffer));
    EXPECT_EQ(last.window(), 0);
    EXPECT_EQ(conn().readable(), kReceiveBuffer);
  }

  ByteVector stream_;
};

// ---------------------------------------------------------------- acceptability (3.10.7.4 table 6)

TEST_F(Established, AcceptsEmptySegmentAtRcvNxtWhenWindowIsZero) {
  fill_receive_buffer();
  EXPECT_EQ(user_send(100), 100U);
  expect_segment({.flags = kPshAck, .seq = local(0), .ack = remote(kReceiveBuffer), .window = 0, .len = 100});
  // Case 1 (length 0, window 0): acceptable only at RCV.NXT.
  ack(remote(kReceiveBuffer), local(100));
  expect_nothing_sent();
  EXPECT_EQ(conn().unacknowledged(), 0U);
  EXPECT_EQ(counters_.rx_unacceptable, 0U);
}

TEST_F(Established, RejectsEmptySegmentOffRcvNxtWhenWindowIsZero) {
  fill_receive_buffer();
  EXPECT_EQ(user_send(100), 100U);
  clear_sent();
  ack(remote(kReceiveBuffer) + 1, local(100));
  expect_sent(kAck, local(100), remote(kReceiveBuffer));
  expect_nothing_sent();
  EXPECT_EQ(conn().unacknowledged(), 100U);  // the ACK field of an unacceptable segment is not used
  EXPECT_EQ(counters_.rx_unacceptable, 1U);
}

TEST_F(Established, AcceptsEmptySegmentInsideOpenWindowOnly) {
  // Case 2 (length 0, window > 0): RCV.NXT =< SEG.SEQ < RCV.NXT + RCV.WND.
  ack(remote(0), local(0));
  ack(remote(kReceiveBuffer - 1), local(0));
  expect_nothing_sent();
  EXPECT_EQ(counters_.rx_unacceptable, 0U);
  ack(remote(kReceiveBuffer), local(0));
  expect_sent(kAck, local(0), remote(0));
  ack(remote(0) - 1, local(0));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(counters_.rx_unacceptable, 2U);
}

TEST_F(Established, RejectsDataWhenWindowIsZero) {
  // Case 3 (length > 0, window 0): never acceptable; answered by an ACK offering window 0.
  fill_receive_buffer();
  peer_data(kReceiveBuffer, 1);
  expect_segment({.flags = kAck, .seq = local(0), .ack = remote(kReceiveBuffer), .window = 0});
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), kReceiveBuffer);
  EXPECT_EQ(counters_.rx_unacceptable, 1U);
}

TEST_F(Established, TakesAckFieldOfDataRefusedForZeroWindow) {
  // 3.10.7.4 first: with RCV.WND zero, "special allowance should be made to accept valid ACKs".
  fill_receive_buffer();
  EXPECT_EQ(user_send(100), 100U);
  clear_sent();
  peer_data(kReceiveBuffer, 500, 100);
  expect_segment({.flags = kAck, .seq = local(100), .ack = remote(kReceiveBuffer), .window = 0});
  expect_nothing_sent();
  EXPECT_EQ(conn().unacknowledged(), 0U);   // the ACK field was used
  EXPECT_EQ(conn().readable(), kReceiveBuffer);  // the text was not
  EXPECT_EQ(conn().deadline(), Instant::never());
  // Not when the segment lies elsewhere: then it is an ordinary unacceptable segment.
  EXPECT_EQ(user_send(100), 100U);
  clear_sent();
  peer_data(kReceiveBuffer + 1, 500, 200);
  expect_sent(kAck, local(200), remote(kReceiveBuffer));
  EXPECT_EQ(conn().unacknowledged(), 100U);
}

TEST_F(Established, AcceptsDataWhoseStartOrEndLiesInWindow) {
  // Case 4 (length > 0, window > 0): the first or the last byte in the window.
  peer_data(0, 100);
  // Starts before RCV.NXT, ends inside: acceptable, the old part trimmed (3.10.7.4 "only the new
  // parts are processed").
  peer_data(50, 100);
  EXPECT_EQ(conn().rcv_nxt(), remote(150));
  EXPECT_EQ(user_receive(1000), stream_bytes(0, 150));
  EXPECT_EQ(counters_.rx_duplicate_bytes, 50U);
  EXPECT_EQ(counters_.rx_unacceptable, 0U);
}

TEST_F(Established, RejectsDataEntirelyBeforeOrBeyondWindow) {
  peer_data(0, 100);
  clear_sent();
  // All old (a retransmission whose ACK got lost): unacceptable, ACKed at once.
  peer_data(0, 100);
  expect_sent(kAck, local(0), remote(100));
  // Entirely beyond the window.
  peer_data(100 + kReceiveBuffer, 10);
  expect_sent(kAck, local(0), remote(100));
  expect_nothing_sent();
  EXPECT_EQ(counters_.rx_unacceptable, 2U);
  EXPECT_EQ(conn().readable(), 100U);
}

TEST_F(Established, TrimsDataBeyondTheWindow) {
  for (std::uint32_t off = 0; off < 7000; off += 1000) {
    peer_data(off, 1000);
  }
  clear_sent();
  // 1500 bytes where 1000 fit: the first 1000 are taken, the rest cut off.
  peer_data(7000, 1500);
  EXPECT_EQ(conn().rcv_nxt(), remote(kReceiveBuffer));
  EXPECT_EQ(counters_.rx_beyond_window_bytes, 500U);
  ByteVector all = user_receive(kReceiveBuffer);
  EXPECT_EQ(all, stream_bytes(0, kReceiveBuffer));
}

TEST_F(Established, DropsSegmentWithoutAckBit) {
  // 3.10.7.4 fifth: "if the ACK bit is off, drop the segment".
  segment(kPsh, remote(0), SeqNum{0}, slice(0, 100));
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), 0U);
  expect_state(TcpState::Established);
}

// ---------------------------------------------------------------- out of order, reassembly, ACK timing

TEST_F(Established, OutOfOrderSegmentIsHeldAndAckedAtOnce) {
  peer_data(1000, 1000);
  // RFC 5681 4.2: an out-of-order segment gets an immediate (duplicate) ACK.
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), 0U);
  EXPECT_EQ(counters_.rx_out_of_order, 1U);
  // Filling the gap: an immediate ACK for everything.
  peer_data(0, 1000);
  expect_sent(kAck, local(0), remote(2000));
  expect_nothing_sent();
  EXPECT_EQ(user_receive(5000), stream_bytes(0, 2000));
}

TEST_F(Established, ReassemblesSeveralHolesInAnyOrder) {
  peer_data(3000, 1000);
  peer_data(1000, 1000);
  peer_data(4000, 500);
  clear_sent();
  peer_data(0, 1000);  // fills the first hole: RCV.NXT moves to 2000
  expect_sent(kAck, local(0), remote(2000));
  peer_data(2000, 1000);  // fills the second: everything up to 4500
  expect_sent(kAck, local(0), remote(4500));
  expect_nothing_sent();
  EXPECT_EQ(user_receive(8000), stream_bytes(0, 4500));
}

TEST_F(Established, DelaysAckForOneSegment) {
  peer_data(0, 1000);
  expect_nothing_sent();
  EXPECT_EQ(until_deadline(), limits_.delayed_ack);
  advance(limits_.delayed_ack - Duration::nanoseconds(1));
  expect_nothing_sent();
  advance(Duration::nanoseconds(1));
  expect_sent(kAck, local(0), remote(1000));
  expect_nothing_sent();
  EXPECT_EQ(counters_.tx_acks_delayed, 1U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(Established, AcksEverySecondSegmentAtOnce) {
  // RFC 5681 4.2 / RFC 1122 4.2.3.2: at least every second full-sized segment.
  peer_data(0, 1000);
  expect_nothing_sent();
  peer_data(1000, 1000);
  expect_sent(kAck, local(0), remote(2000));
  expect_nothing_sent();
  EXPECT_EQ(conn().deadline(), Instant::never());  // the delayed-ACK timer is off again
  peer_data(2000, 1000);
  expect_nothing_sent();
  peer_data(3000, 1000);
  expect_sent(kAck, local(0), remote(4000));
}

TEST_F(Established, DelayedAckRidesOnData) {
  peer_data(0, 1000);
  expect_nothing_sent();
  EXPECT_EQ(user_send(10), 10U);
  expect_segment({.flags = kPshAck, .seq = local(0), .ack = remote(1000), .len = 10});
  expect_nothing_sent();
  // Only the retransmission timer remains.
  EXPECT_EQ(until_deadline(), conn().rto());
}

class EstablishedNoDelayedAck : public Established {
 protected:
  void configure(TcpLimits& limits) override { limits.delayed_ack = Duration::zero(); }
};

TEST_F(EstablishedNoDelayedAck, AcksEverySegmentAtOnce) {
  peer_data(0, 100);
  expect_sent(kAck, local(0), remote(100));
  peer_data(100, 100);
  expect_sent(kAck, local(0), remote(200));
  expect_nothing_sent();
}

TEST_F(Established, DuplicateDataIsAckedAtOnce) {
  peer_data(0, 1000);
  peer_data(0, 1000);
  expect_sent(kAck, local(0), remote(1000));
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), 1000U);
}

TEST_F(Established, OutOfOrderFinIsProcessedWhenGapFills) {
  fin(remote(1000), local(0), slice(1000, 500));
  expect_sent(kAck, local(0), remote(0));
  expect_state(TcpState::Established);
  EXPECT_FALSE(conn().peer_closed());
  peer_data(0, 1000);
  expect_sent(kAck, local(0), remote(1501));
  expect_nothing_sent();
  expect_state(TcpState::CloseWait);
  EXPECT_TRUE(conn().peer_closed());
  EXPECT_EQ(user_receive(5000), stream_bytes(0, 1500));
}

// ---------------------------------------------------------------- our receive window

TEST_F(Established, AdvertisedRightEdgeNeverMovesLeft) {
  SeqNum edge = remote(kReceiveBuffer);
  for (std::uint32_t off = 0; off < 6000; off += 1000) {
    peer_data(off, 1000);
    while (sent_count() > 0) {
      const SentSegment s = next_sent();
      const SeqNum right = s.ack() + s.window();
      EXPECT_TRUE(ge(right, edge)) << describe(s);
      edge = seq_max(edge, right);
    }
    EXPECT_TRUE(ge(conn().rcv_adv(), edge));
  }
}

TEST_F(Established, ReceiverSwsAvoidanceKeepsRightEdgeUntilMssFreed) {
  peer_data(0, 1000);
  peer_data(1000, 1000);
  expect_segment({.flags = kAck, .ack = remote(2000), .window = 6000});
  // 500 bytes read: less than min(RCV.BUFF / 2, MSS) = 1000 beyond the offered edge, so the
  // edge stays (3.8.6.2.2) and the next ACK offers 4000, not 4500.
  EXPECT_EQ(user_receive(500).size(), 500U);
  expect_nothing_sent();
  peer_data(2000, 1000);
  peer_data(3000, 1000);
  expect_segment({.flags = kAck, .ack = remote(4000), .window = 4000});
  // 1500 read in all: the free space (5500) is now an MSS beyond the offered edge (4000): a
  // window update moves the edge.
  EXPECT_EQ(user_receive(1000).size(), 1000U);
  expect_segment({.flags = kAck, .ack = remote(4000), .window = 5500});
  expect_nothing_sent();
  peer_data(4000, 1000);
  peer_data(5000, 1000);
  expect_segment({.flags = kAck, .ack = remote(6000), .window = 3500});
}

TEST_F(Established, SendsWindowUpdateOnceReadFreesAnMss) {
  fill_receive_buffer();
  EXPECT_EQ(user_receive(500).size(), 500U);
  expect_nothing_sent();  // 500 < MSS: a window update now would invite a small segment
  EXPECT_EQ(user_receive(600).size(), 600U);
  expect_segment({.flags = kAck, .seq = local(0), .ack = remote(kReceiveBuffer), .window = 1100});
  expect_nothing_sent();
  // Further small reads: no more updates until another MSS is freed beyond the new edge.
  EXPECT_EQ(user_receive(900).size(), 900U);
  expect_nothing_sent();
  EXPECT_EQ(user_receive(100).size(), 100U);
  expect_segment({.flags = kAck, .ack = remote(kReceiveBuffer), .window = 2100});
}

// ---------------------------------------------------------------- sending: segmentation, Nagle, SWS

TEST_F(Established, SendsMssSegmentsAndHoldsTheSmallTailWithNagle) {
  EXPECT_EQ(user_send(2500), 2500U);
  const ByteVector sent_data = pattern(2500);
  expect_segment({.flags = kAck, .seq = local(0), .ack = remote(0), .payload =
                      ByteVector(sent_data.begin(), sent_data.begin() + 1000)});
  expect_segment({.flags = kAck, .seq = local(1000), .len = 1000});
  // RFC 9293 3.7.4: the 500-byte tail waits while data is unacknowledged.
  expect_nothing_sent();
  ack(remote(0), local(2000));
  expect_segment({.flags = kPshAck, .seq = local(2000), .payload = ByteVector(sent_data.begin() + 2000,
                                                                                sent_data.end())});
  expect_nothing_sent();
}

TEST_F(Established, NagleHoldsSmallSegmentWhileDataIsInFlight) {
  EXPECT_EQ(user_send(100, 1), 100U);
  expect_segment({.flags = kPshAck, .seq = local(0), .len = 100});
  EXPECT_EQ(user_send(100, 2), 100U);
  EXPECT_EQ(user_send(100, 3), 100U);
  expect_nothing_sent();
  ack(remote(0), local(100));
  // Coalesced into one segment.
  expect_segment({.flags = kPshAck, .seq = local(100), .len = 200});
  expect_nothing_sent();
}

TEST_F(Established, NagleOffSendsSmallSegmentsAtOnce) {
  conn().set_nagle(false);
  EXPECT_EQ(user_send(2500), 2500U);
  expect_segment({.flags = kAck, .seq = local(0), .len = 1000});
  expect_segment({.flags = kAck, .seq = local(1000), .len = 1000});
  expect_segment({.flags = kPshAck, .seq = local(2000), .len = 500});
  EXPECT_EQ(user_send(100), 100U);
  expect_segment({.flags = kPshAck, .seq = local(2500), .len = 100});
  expect_nothing_sent();
}

TEST_F(Established, SenderSwsAvoidanceHoldsSmallSegmentInSmallWindow) {
  // The peer shrinks its window to 2300 (the usable window then is 300 after two segments).
  ack(remote(0), local(0), {}, 2300);
  conn().set_nagle(false);
  EXPECT_EQ(user_send(5000), 5000U);
  expect_segment({.flags = kAck, .seq = local(0), .len = 1000});
  expect_segment({.flags = kAck, .seq = local(1000), .len = 1000});
  // RFC 9293 3.8.6.2.1: 300 bytes are neither an MSS nor half the largest window offered (20000),
  // and more data waits: no segment.
  expect_nothing_sent();
  ack(remote(0), local(2000), {}, 2300);
  expect_segment({.flags = kAck, .seq = local(2000), .len = 1000});
  expect_segment({.flags = kAck, .seq = local(3000), .len = 1000});
  expect_nothing_sent();
}

class EstablishedSmallPeerWindow : public Established {
 protected:
  void configure(TcpLimits& limits) override {
    (void)limits;
    peer_window_ = 600;
  }
};

TEST_F(EstablishedSmallPeerWindow, SendsSegmentFillingHalfTheLargestWindow) {
  // 3.8.6.2.1: a segment of at least Fs * max(SND.WND) (Fs = 1/2) may go.
  EXPECT_EQ(user_send(1000), 1000U);
  expect_segment({.flags = kAck, .seq = local(0), .len = 600});
  expect_nothing_sent();
  ack(remote(0), local(600));
  expect_segment({.flags = kPshAck, .seq = local(600), .len = 400});
  expect_nothing_sent();
}

TEST_F(Established, CongestionWindowLimitsTheFirstFlight) {
  EXPECT_EQ(user_send(15000), 15000U);
  for (std::uint32_t i = 0; i < 10; ++i) {
    expect_segment({.flags = kAck, .seq = local(i * 1000), .len = 1000});
  }
  expect_nothing_sent();
  // Slow start: each ACK of an MSS opens the window by an MSS (two segments out per ACK).
  ack(remote(0), local(1000));
  expect_segment({.seq = local(10000), .len = 1000});
  expect_segment({.seq = local(11000), .len = 1000});
  expect_nothing_sent();
}

TEST_F(Established, AckOfDataFreesSendBufferAndRaisesWritable) {
  EXPECT_EQ(user_send(kSendBuffer), kSendBuffer);
  EXPECT_EQ(user_send(10), 0U);
  EXPECT_EQ(conn().writable(), 0U);
  clear_sent();
  (void)conn().take_events();
  ack(remote(0), local(3000));
  EXPECT_EQ(conn().writable(), 3000U);
  EXPECT_TRUE(conn().take_events() & tcp_event::Writable);
  EXPECT_EQ(conn().snd_una(), local(3000));
}

// ---------------------------------------------------------------- the peer's window: updates, zero window, persist

TEST_F(Established, WindowUpdateIgnoresOlderSegment) {
  // 3.10.7.4 fifth: SND.WND only from a segment newer than SND.WL1/SND.WL2.
  peer_data(2000, 100, 0, 20000);  // out of order, newest sequence number
  peer_data(1000, 100, 0, 3000);   // older: its window is not taken
  EXPECT_EQ(conn().snd_wnd(), 20000U);
  peer_data(2100, 100, 0, 3000);  // newer: taken
  EXPECT_EQ(conn().snd_wnd(), 3000U);
}

TEST_F(Established, ZeroWindowStartsPersistProbes) {
  ack(remote(0), local(0), {}, 0);
  EXPECT_EQ(conn().snd_wnd(), 0U);
  EXPECT_EQ(user_send(100), 100U);
  expect_nothing_sent();
  // RFC 9293 3.8.6.1: probe the zero window with one byte, backing off.
  EXPECT_EQ(fire_next_timer(), conn().rto());
  expect_segment({.flags = kAck, .seq = local(0), .ack = remote(0), .payload = ByteVector(1, pattern(100)[0])});
  expect_nothing_sent();
  EXPECT_EQ(counters_.zero_window_probes, 1U);
  const Duration first_interval = until_deadline();
  // The peer answers, window still zero, the byte not taken.
  ack(remote(0), local(0), {}, 0);
  expect_nothing_sent();
  EXPECT_EQ(fire_next_timer(), first_interval);
  expect_segment({.flags = kAck, .seq = local(0), .len = 1});
  EXPECT_GT(until_deadline(), first_interval);  // backed off
  // The window opens: the data goes.
  ack(remote(0), local(0), {}, 20000);
  expect_segment({.flags = kPshAck, .seq = local(0), .len = 100});
  expect_nothing_sent();
  expect_state(TcpState::Established);
}

TEST_F(Established, ZeroWindowProbeByteTakenByPeer) {
  ack(remote(0), local(0), {}, 0);
  EXPECT_EQ(user_send(100), 100U);
  fire_next_timer();
  expect_segment({.seq = local(0), .len = 1});
  // The peer took the byte and still offers no window.
  ack(remote(0), local(1), {}, 0);
  expect_nothing_sent();
  EXPECT_EQ(conn().snd_una(), local(1));
  EXPECT_EQ(conn().unacknowledged(), 99U);
  ack(remote(0), local(1), {}, 20000);
  expect_segment({.flags = kPshAck, .seq = local(1), .len = 99});
  expect_nothing_sent();
}

TEST_F(Established, PersistProbesNeverGiveUpWhileAnswered) {
  ack(remote(0), local(0), {}, 0);
  EXPECT_EQ(user_send(100), 100U);
  Duration last = Duration::zero();
  for (int i = 0; i < 40; ++i) {
    last = fire_next_timer();
    expect_segment({.seq = local(0), .len = 1});
    ack(remote(0), local(0), {}, 0);
  }
  expect_state(TcpState::Established);
  EXPECT_EQ(last, limits_.persist_max);
  EXPECT_EQ(counters_.zero_window_probes, 40U);
}

// ---------------------------------------------------------------- retransmission

class EstablishedFewRetries : public Established {
 protected:
  void configure(TcpLimits& limits) override { limits.retransmissions_max = 3; }
};

TEST_F(EstablishedFewRetries, RetransmitsWithBackoffThenTimesOut) {
  EXPECT_EQ(user_send(1000), 1000U);
  expect_segment({.flags = kPshAck, .seq = local(0), .len = 1000});
  Duration rto = conn().rto();
  EXPECT_EQ(rto, limits_.rto.min_rto);
  for (std::uint32_t i = 0; i < limits_.retransmissions_max; ++i) {
    EXPECT_EQ(fire_next_timer(), rto) << "retransmission " << i;
    expect_segment({.flags = kPshAck, .seq = local(0), .len = 1000});
    expect_nothing_sent();
    rto = rto + rto;  // RFC 6298 5.5
  }
  EXPECT_EQ(fire_next_timer(), rto);
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::TimedOut);
  EXPECT_TRUE(conn().take_events() & tcp_event::TimedOut);
  EXPECT_EQ(counters_.retransmission_timeouts, 3U);
  EXPECT_EQ(counters_.timeouts, 1U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(Established, TimeoutResendsFirstSegmentWithLossWindow) {
  EXPECT_EQ(user_send(5000), 5000U);
  for (std::uint32_t i = 0; i < 5; ++i) {
    expect_segment({.seq = local(i * 1000), .len = 1000});
  }
  fire_next_timer();
  // RFC 5681 3.1: cwnd = 1 SMSS; RFC 6298 5.4: the earliest unacknowledged segment goes again.
  expect_segment({.seq = local(0), .len = 1000});
  expect_nothing_sent();
  EXPECT_EQ(conn().cwnd(), kPeerMss);
  EXPECT_EQ(counters_.retransmissions, 1U);
  // The ACK of it (slow start: cwnd 2 SMSS) releases the next two.
  ack(remote(0), local(1000));
  expect_segment({.seq = local(1000), .len = 1000});
  expect_segment({.seq = local(2000), .len = 1000});
  expect_nothing_sent();
  // An ACK for everything sent before the timeout is still acceptable (up to the highest sent).
  ack(remote(0), local(5000));
  expect_nothing_sent();
  EXPECT_EQ(conn().unacknowledged(), 0U);
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(Established, PureAckAfterTimeoutCarriesHighestSequenceSent) {
  // After a timeout SND.NXT goes back (go-back-N), but the peer may hold all we sent: an empty ACK
  // at the rewound SND.NXT would lie below its RCV.NXT and fail its acceptability test (3.10.7.4),
  // so its ACK field would be ignored. The ACK carries the highest sequence number sent instead.
  EXPECT_EQ(user_send(3000), 3000U);
  clear_sent();
  fire_next_timer();
  expect_segment({.seq = local(0), .len = 1000});
  EXPECT_EQ(conn().snd_nxt(), local(1000));
  peer_data(0, 100);
  peer_data(100, 100);
  expect_sent(kAck, local(3000), remote(200));
  expect_nothing_sent();
  // And the peer's ACK for everything is taken.
  ack(remote(200), local(3000));
  EXPECT_EQ(conn().unacknowledged(), 0U);
}

TEST_F(Established, PureAckDuringZeroWindowProbeStaysAtSndNxt) {
  // With a zero window only SEG.SEQ = RCV.NXT is acceptable to the peer: the probe byte it did
  // not take must not move the ACK's sequence number.
  ack(remote(0), local(0), {}, 0);
  EXPECT_EQ(user_send(100), 100U);
  fire_next_timer();
  expect_segment({.seq = local(0), .len = 1});
  peer_data(0, 100, 0, 0);
  peer_data(100, 100, 0, 0);
  expect_sent(kAck, local(0), remote(200));
  expect_nothing_sent();
}

TEST_F(Established, NoRttSampleFromRetransmittedSegment) {
  EXPECT_EQ(user_send(1000), 1000U);
  clear_sent();
  fire_next_timer();
  const Duration backed_off = conn().rto();
  EXPECT_EQ(backed_off, limits_.rto.min_rto + limits_.rto.min_rto);
  advance(Duration::milliseconds(10));
  ack(remote(0), local(1000));
  // RFC 6298 3 (Karn): the ACK is ambiguous, the backed-off RTO stays until a clean sample.
  EXPECT_EQ(conn().rto(), backed_off);
  EXPECT_EQ(user_send(1000), 1000U);
  clear_sent();
  advance(Duration::milliseconds(50));
  ack(remote(0), local(2000));
  EXPECT_LT(conn().rto(), backed_off);
}

TEST_F(Established, RetransmissionTimerRestartsOnNewAck) {
  EXPECT_EQ(user_send(2000), 2000U);
  clear_sent();
  advance(Duration::milliseconds(150));
  ack(remote(0), local(1000));
  // RFC 6298 5.3: restarted, so it expires a full RTO after this ACK.
  EXPECT_EQ(until_deadline(), conn().rto());
}

TEST_F(Established, FastRetransmitOnThirdDuplicateAck) {
  EXPECT_EQ(user_send(5000), 5000U);
  clear_sent();
  ack(remote(0), local(0));
  ack(remote(0), local(0));
  expect_nothing_sent();
  ack(remote(0), local(0));
  // RFC 5681 3.2: the third duplicate retransmits the first unacknowledged segment at once.
  expect_segment({.flags = kAck, .seq = local(0), .len = 1000});
  expect_nothing_sent();
  EXPECT_EQ(counters_.fast_retransmits, 1U);
  EXPECT_EQ(counters_.rx_duplicate_acks, 3U);
  // The ACK of everything ends recovery.
  ack(remote(0), local(5000));
  expect_nothing_sent();
  EXPECT_EQ(conn().unacknowledged(), 0U);
}

TEST_F(Established, AcksThatUpdateTheWindowAreNotDuplicates) {
  EXPECT_EQ(user_send(5000), 5000U);
  clear_sent();
  ack(remote(0), local(0), {}, 19000);
  ack(remote(0), local(0), {}, 18000);
  ack(remote(0), local(0), {}, 17000);
  expect_nothing_sent();
  EXPECT_EQ(counters_.rx_duplicate_acks, 0U);
  EXPECT_EQ(counters_.fast_retransmits, 0U);
}

TEST_F(Established, AcksCarryingDataAreNotDuplicates) {
  EXPECT_EQ(user_send(5000), 5000U);
  clear_sent();
  for (std::uint32_t i = 0; i < 3; ++i) {
    peer_data(i * 10, 10);
  }
  EXPECT_EQ(counters_.rx_duplicate_acks, 0U);
  EXPECT_EQ(counters_.fast_retransmits, 0U);
}

// ---------------------------------------------------------------- RST and SYN (RFC 5961)

TEST_F(Established, EstablishedToClosedOnExactRst) {
  EXPECT_EQ(user_send(1000), 1000U);
  clear_sent();
  rst(remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Closed);
  EXPECT_EQ(conn().error(), SocketError::ConnectionReset);
  const std::uint32_t events = conn().take_events();
  EXPECT_TRUE(events & tcp_event::Reset);
  EXPECT_TRUE(events & tcp_event::Closed);
  EXPECT_EQ(counters_.resets_received, 1U);
  EXPECT_EQ(counters_.rx_rst, 1U);
  EXPECT_EQ(conn().unacknowledged(), 0U);  // 3.10.7.4 second: "All segment queues should be flushed"
  EXPECT_EQ(conn().deadline(), Instant::never());
}

TEST_F(Established, ChallengesInWindowRst) {
  rst(remote(1));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_EQ(counters_.challenge_acks, 1U);
  rst(remote(kReceiveBuffer - 1));
  expect_sent(kAck, local(0), remote(0));
  EXPECT_EQ(counters_.challenge_acks, 2U);
}

TEST_F(Established, DropsRstOutsideWindowSilently) {
  rst(remote(kReceiveBuffer));
  rst(remote(0) - 1);
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_EQ(counters_.rx_out_of_window_rst, 2U);
}

TEST_F(Established, ChallengesSynWhateverItsSequenceNumber) {
  // RFC 5961 4.2 / RFC 9293 3.10.7.4 fourth: an ACK, never a reset.
  syn(remote(0));
  expect_sent(kAck, local(0), remote(0));
  syn(remote(100));
  expect_sent(kAck, local(0), remote(0));
  syn(kIrs - 100000);  // outside the window: the sequence check already answers with an ACK
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
  EXPECT_EQ(counters_.challenge_acks, 2U);
}

TEST_F(Established, ChallengesSynAckToo) {
  syn_ack(remote(10), local(0));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  expect_state(TcpState::Established);
}

class EstablishedFewChallenges : public Established {
 protected:
  void configure(TcpLimits& limits) override { limits.challenge_acks_per_second = 2; }
};

TEST_F(EstablishedFewChallenges, ChallengeAcksAreRateLimited) {
  // RFC 5961 7: at most tcp.challenge_acks_per_second (here a burst of 2, refilled at 2/s).
  rst(remote(5));
  rst(remote(6));
  syn(remote(7));
  rst(remote(8));
  expect_sent(kAck, local(0), remote(0));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(counters_.challenge_acks, 2U);
  EXPECT_EQ(counters_.challenge_acks_suppressed, 2U);
  advance(Duration::milliseconds(500));
  rst(remote(9));
  expect_sent(kAck, local(0), remote(0));
  rst(remote(9));
  expect_nothing_sent();
  expect_state(TcpState::Established);
}

// ---------------------------------------------------------------- the ACK field (RFC 5961 5.2)

TEST_F(Established, AckOfUnsentDataIsAnsweredAndDropped) {
  // 3.10.7.4 fifth: SEG.ACK > SND.NXT: send an ACK, drop the segment (its data too).
  peer_data(0, 100, 1);
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), 0U);
  EXPECT_EQ(counters_.rx_ack_too_new, 1U);
}

TEST_F(Established, AckTooOldIsAnsweredAndDropped) {
  // RFC 5961 5.2: SEG.ACK < SND.UNA - MAX.SND.WND.
  ack(remote(0), local(0) - (kPeerWindow + 1), slice(0, 100));
  expect_sent(kAck, local(0), remote(0));
  expect_nothing_sent();
  EXPECT_EQ(conn().readable(), 0U);
  EXPECT_EQ(counters_.rx_ack_too_old, 1U);
}

TEST_F(Established, OldAckWithinMaxWindowStillDeliversData) {
  EXPECT_EQ(user_send(1000), 1000U);
  ack(remote(0), local(1000));
  clear_sent();
  ack(remote(0), local(1000) - kPeerWindow, slice(0, 100));
  EXPECT_EQ(conn().readable(), 100U);
  EXPECT_EQ(conn().snd_una(), local(1000));
  EXPECT_EQ(counters_.rx_ack_too_old, 0U);
}

TEST_F(Established, AnswersPeerKeepaliveProbe) {
  // A keepalive probe (SEG.SEQ = RCV.NXT - 1, no data) is unacceptable and so gets an ACK.
  peer_data(0, 100);
  advance(limits_.delayed_ack);
  clear_sent();
  ack(remote(99), local(0));
  expect_sent(kAck, local(0), remote(100));
  expect_nothing_sent();
}

}  // namespace
}  // namespace tapstack::tcp::test
