#pragma once
// Connection: one TCP connection's TCB and state machine (RFC 9293), sans-IO.
// Segments come in through on_segment(), user calls through open/send/
// receive/shutdown/abort, time through on_timer(); segments go out through the
// SegmentOutput the TCP layer provides. Nothing here reads a clock, allocates
// per segment, or calls back into the user: what happened is kept as event
// bits for the socket layer to collect.
//
// Files by concern (all define members of this class):
//   connection.cpp   construction, user calls, the one place states change
//   tcp_input.cpp    RFC 9293 3.10.7: segment arrival, in the RFC's order of checks
//   tcp_output.cpp   what to send and when: window, Nagle, SWS avoidance, cwnd, ACKs, RST
//   tcp_timers.cpp   retransmission (RFC 6298), delayed ACK, persist, keepalive, TIME-WAIT
//
// Sequence space bookkeeping (RFC 9293 3.3.1): SND.UNA, SND.NXT, SND.WND,
// SND.WL1/WL2, ISS; RCV.NXT, RCV.WND, IRS. snd_max_ is the highest sequence
// number ever sent: after a retransmission timeout SND.NXT goes back to
// SND.UNA (RFC 5681 3.1 / RFC 6298 5.4) and ACKs up to snd_max_ stay valid.

#include <cstdint>
#include <memory>
#include <optional>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/ip/icmp_policy.hpp"
#include "stack/socket/socket_error.hpp"
#include "stack/tcp/congestion.hpp"
#include "stack/tcp/receive_buffer.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/tcp/segment.hpp"
#include "stack/tcp/send_buffer.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/tcp/state.hpp"
#include "stack/tcp/tcp_counters.hpp"

namespace tapstack::tcp {

// What every connection of a stack shares: limits, the output, counters and the
// RFC 5961 7 challenge-ACK budget (stack-wide, as the RFC suggests).
struct TcpContext {
  const TcpLimits& limits;
  SegmentOutput& output;
  TcpCounters& counters;
  ip::TokenBucket& challenge_acks;
  std::uint16_t local_mss;  // MSS we announce: interface MTU - 40 (RFC 9293 3.7.1, RFC 6691)
};

class Connection {
 public:
  // A connection in CLOSED; open_active() or open_passive() starts it. `iss` per RFC 6528.
  Connection(TcpContext context, FourTuple tuple, SeqNum iss);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // ---- user calls (RFC 9293 3.10) ----
  void open_active(Instant now);   // CLOSED -> SYN-SENT, SYN sent
  void open_passive();             // CLOSED -> LISTEN (the layer feeds it the SYN that created it)
  // Queues what fits; returns how much (0 when the buffer is full). Only in states that may send.
  std::size_t send(Bytes data, Instant now);
  // Moves in-order received bytes out; may send a window update.
  std::size_t receive(MutableBytes out, Instant now);
  // CLOSE (3.10.4): FIN after queued data. Idempotent.
  void shutdown(Instant now);
  // ABORT (3.10.5): RST when synchronized, then CLOSED.
  void abort(Instant now);
  void set_nagle(bool enabled) { nagle_ = enabled; }
  // A new SYN takes over this TIME-WAIT connection's tuple (RFC 6191): it ends now, CLOSED.
  void end_time_wait();
  void set_keepalive(bool enabled, Instant now);

  // ---- the layer below ----
  void on_segment(const Segment& segment, Instant now);
  // Runs every timer due at `now`.
  void on_timer(Instant now);
  // The earliest timer (Instant::never() when none runs).
  Instant deadline() const;

  // ---- state ----
  TcpState state() const { return state_; }
  const FourTuple& tuple() const { return tuple_; }
  bool passive() const { return passive_; }
  bool shutdown_called() const { return fin_queued_; }
  // Bytes tcp_receive would return / tcp_send would take.
  std::size_t readable() const { return receive_buffer_ ? receive_buffer_->readable() : 0; }
  std::size_t writable() const;
  std::size_t unacknowledged() const { return send_buffer_ ? send_buffer_->size() : 0; }
  // The peer's FIN has been received (in order).
  bool peer_closed() const { return fin_received_; }
  std::optional<SocketError> error() const { return error_; }
  // tcp_event bits (stack.hpp) raised since the last take.
  std::uint32_t take_events() { return std::exchange(events_, 0U); }
  std::uint64_t retransmissions() const { return retransmissions_total_; }
  // The user released the socket (close/abort): data that arrives now is answered by RST.
  void set_orphaned() { orphaned_ = true; }
  bool orphaned() const { return orphaned_; }

  // For tests and invariants.
  SeqNum snd_una() const { return snd_una_; }
  SeqNum snd_nxt() const { return snd_nxt_; }
  SeqNum snd_max() const { return snd_max_; }
  SeqNum rcv_nxt() const { return rcv_nxt_; }
  SeqNum iss() const { return iss_; }
  std::uint32_t snd_wnd() const { return snd_wnd_; }
  std::uint32_t cwnd() const { return congestion_->window(); }
  std::uint16_t send_mss() const { return smss_; }
  // The right edge of the receive window we last advertised (RCV.NXT + RCV.WND at the time).
  SeqNum rcv_adv() const { return rcv_adv_; }
  Duration rto() const { return rto_.rto(); }
  std::size_t memory_held() const;

 private:
  // connection.cpp
  void set_state(TcpState next);  // every transition goes through here
  void fail_with(SocketError error, TcpState next = TcpState::Closed);
  void ensure_buffers();
  void raise(std::uint32_t event_bits) { events_ |= event_bits; }

  // tcp_input.cpp: one function per group of states, as RFC 9293 3.10.7 orders them.
  void input_listen(const Segment& seg, Instant now);
  void input_syn_sent(const Segment& seg, Instant now);
  void input_synchronized(const Segment& seg, Instant now);
  bool acceptable(const Segment& seg) const;
  void process_rst(const Segment& seg, Instant now);
  bool process_ack(const Segment& seg, Instant now);  // false: drop the segment
  void process_text(const Segment& seg, Instant now);
  void process_fin(Instant now);
  void update_send_window(const Segment& seg);
  void take_syn_options(const Segment& seg);
  void challenge_ack(Instant now);

  // tcp_output.cpp
  void output(Instant now);  // send what the windows and Nagle allow, else a pending ACK
  void send_syn(bool with_ack);
  void send_data_segment(SeqNum seq, std::size_t len, bool fin);
  void send_ack();
  void send_rst(SeqNum seq);
  void send_control(SeqNum seq, wire::TcpFlags flags, Bytes payload_first = {}, Bytes payload_second = {});
  std::uint16_t window_to_advertise();
  void retransmit_first_unacked(Instant now);
  std::size_t receive_window() const;

  // tcp_timers.cpp
  void arm_retransmit(Instant now);
  void on_retransmit_timeout(Instant now);
  void on_persist_timeout(Instant now);
  void on_keepalive_timeout(Instant now);
  void schedule_ack(Instant now, bool immediately);
  void enter_time_wait(Instant now);

  TcpContext ctx_;
  FourTuple tuple_;
  TcpState state_ = TcpState::Closed;
  bool passive_ = false;

  // Send sequence space.
  SeqNum iss_;
  SeqNum snd_una_;
  SeqNum snd_nxt_;
  SeqNum snd_max_;
  std::uint32_t snd_wnd_ = 0;      // scaled, in bytes
  std::uint32_t max_snd_wnd_ = 0;  // the largest window the peer offered (RFC 9293 3.8.6.2.1, RFC 5961 5.2)
  SeqNum snd_wl1_;
  SeqNum snd_wl2_;
  SeqNum buffer_seq_;              // sequence number of the send buffer's first byte
  std::uint16_t smss_ = 536;       // effective send MSS (RFC 9293 3.7.1)
  std::uint8_t snd_wscale_ = 0;    // shift for windows the peer sends (RFC 7323 2.3)
  std::uint8_t rcv_wscale_ = 0;    // shift for windows we send
  bool offer_window_scale_ = false;
  bool fin_queued_ = false;        // user called shutdown: FIN after the buffered data
  bool fin_sent_ = false;
  SeqNum fin_seq_;                 // sequence number of our FIN once sent

  // Receive sequence space.
  SeqNum irs_;
  SeqNum rcv_nxt_;
  SeqNum rcv_adv_;                 // right edge advertised
  bool fin_received_ = false;
  std::optional<SeqNum> out_of_order_fin_;  // a FIN that arrived ahead of a gap

  std::optional<SendBuffer> send_buffer_;
  std::optional<ReceiveBuffer> receive_buffer_;
  std::unique_ptr<CongestionControl> congestion_;
  RtoEstimator rto_;
  bool nagle_ = true;
  bool keepalive_ = false;
  bool orphaned_ = false;

  // Round-trip timing of one segment at a time (RFC 6298 3, Karn's rule).
  std::optional<SeqNum> timed_seq_;  // the sample completes when an ACK covers this
  Instant timed_at_;

  // Timers (Instant::never() when stopped).
  Instant retransmit_at_ = Instant::never();
  Instant delayed_ack_at_ = Instant::never();
  Instant persist_at_ = Instant::never();
  Instant keepalive_at_ = Instant::never();
  Instant time_wait_at_ = Instant::never();  // also the orphaned FIN-WAIT-2 limit
  std::uint32_t retransmit_count_ = 0;       // consecutive timeouts of the same data
  std::uint32_t persist_backoff_ = 0;
  std::uint32_t keepalive_sent_ = 0;
  Instant last_received_;

  // ACK generation (RFC 9293 3.8.6.3, RFC 5681 4.2).
  bool ack_now_ = false;
  std::size_t unacked_segments_ = 0;   // full-sized segments received since our last ACK
  std::uint32_t duplicate_acks_ = 0;

  std::optional<SocketError> error_;
  std::uint32_t events_ = 0;
  std::uint64_t retransmissions_total_ = 0;
};

}  // namespace tapstack::tcp
