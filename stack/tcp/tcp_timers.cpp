// A connection's timers: retransmission (RFC 6298 5, with Karn's rule and the
// give-up of RFC 1122 4.2.3.5), delayed ACK (RFC 9293 3.8.6.3, RFC 1122
// 4.2.3.2), persist with zero-window probes (RFC 9293 3.8.6.1), keepalive
// (RFC 1122 4.2.3.6) and TIME-WAIT (RFC 9293 3.4.2: 2 * MSL), which also bounds
// an orphaned FIN-WAIT-2.

#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tapstack::tcp {

Instant Connection::deadline() const {
  return std::min({retransmit_at_, delayed_ack_at_, persist_at_, keepalive_at_, time_wait_at_});
}

void Connection::on_timer(Instant now) {
  if (time_wait_at_ <= now) {
    time_wait_at_ = Instant::never();
    if (state_ == TcpState::TimeWait) {
      set_state(TcpState::Closed);
      return;
    }
    if (state_ == TcpState::FinWait2 && orphaned_) {
      ctx_.counters.fin_wait_2_timeouts++;
      set_state(TcpState::Closed);
      return;
    }
  }
  if (delayed_ack_at_ <= now) {
    delayed_ack_at_ = Instant::never();
    if (state_ != TcpState::Closed && state_ != TcpState::Listen && state_ != TcpState::SynSent) {
      ctx_.counters.tx_acks_delayed++;
      send_ack();
    }
  }
  if (retransmit_at_ <= now) {
    on_retransmit_timeout(now);
  }
  if (persist_at_ <= now) {
    on_persist_timeout(now);
  }
  if (keepalive_at_ <= now) {
    on_keepalive_timeout(now);
  }
}

void Connection::arm_retransmit(Instant now) { retransmit_at_ = now + rto_.rto(); }

void Connection::on_retransmit_timeout(Instant now) {
  retransmit_at_ = Instant::never();
  if (state_ == TcpState::Closed || state_ == TcpState::Listen || state_ == TcpState::TimeWait) {
    return;
  }
  const bool handshake = state_ == TcpState::SynSent || state_ == TcpState::SynReceived;
  const std::uint32_t limit =
      handshake ? ctx_.limits.syn_retransmissions_max : ctx_.limits.retransmissions_max;
  if (retransmit_count_ >= limit) {
    // RFC 1122 4.2.3.5 (R2): give up and tell the user.
    ctx_.counters.timeouts++;
    fail_with(SocketError::TimedOut);
    return;
  }
  ++retransmit_count_;
  ctx_.counters.retransmission_timeouts++;
  rto_.backoff();       // RFC 6298 5.5
  timed_seq_.reset();   // Karn: no sample across a retransmission
  if (handshake) {
    // RFC 5681 3.1: after a lost SYN or SYN,ACK the initial window is one segment; the algorithm
    // learns of the loss here and applies it in start() (on entering ESTABLISHED).
    congestion_->on_timeout((snd_max_ - snd_una_).raw(), snd_max_);
    send_syn(state_ == TcpState::SynReceived);
    ctx_.counters.retransmissions++;
    retransmissions_total_++;
    arm_retransmit(now);
    return;
  }
  // RFC 5681 3.1 eqn 4 and the loss window; RFC 6298 5.4: resend from the first unacknowledged
  // byte (SND.NXT goes back; ACKs up to snd_max_ stay acceptable).
  congestion_->on_timeout((snd_max_ - snd_una_).raw(), snd_max_);
  duplicate_acks_ = 0;
  snd_nxt_ = snd_una_;
  output(now);
  if (retransmit_at_ == Instant::never()) {
    // Nothing went (the peer's window is closed): the first segment goes anyway, as a probe.
    retransmit_first_unacked(now);
    arm_retransmit(now);  // RFC 6298 5.6
  }
}

void Connection::on_persist_timeout(Instant now) {
  persist_at_ = Instant::never();
  if (!send_buffer_ || (state_ != TcpState::Established && state_ != TcpState::CloseWait &&
                        state_ != TcpState::FinWait1 && state_ != TcpState::Closing && state_ != TcpState::LastAck)) {
    return;
  }
  const SeqNum data_end = buffer_seq_ + SeqLen{static_cast<std::uint32_t>(send_buffer_->size())};
  if (snd_nxt_ != snd_una_ || !lt(snd_nxt_, data_end)) {
    output(now);
    return;
  }
  // A peer that answers no probe at all is gone: give up as for retransmissions (RFC 1122 4.2.3.5;
  // 4.2.2.17 keeps the connection open only while probes are acknowledged). Any segment from the
  // peer resets the count (tcp_input.cpp).
  if (retransmit_count_ >= ctx_.limits.retransmissions_max) {
    ctx_.counters.timeouts++;
    fail_with(SocketError::TimedOut);
    return;
  }
  ++retransmit_count_;
  if (snd_wnd_ != 0) {
    // RFC 1122 4.2.3.4: the override timeout: send what the (small) window takes, SWS or not.
    const std::size_t unsent = static_cast<std::size_t>((data_end - snd_nxt_).raw());
    const std::size_t len = std::min({unsent, std::size_t{snd_wnd_}, std::size_t{smss_}});
    send_data_segment(snd_nxt_, len, false);
    snd_nxt_ += SeqLen{static_cast<std::uint32_t>(len)};
    snd_max_ = seq_max(snd_max_, snd_nxt_);
    arm_retransmit(now);
    return;
  }
  // RFC 9293 3.8.6.1: probe with one byte of new data beyond the zero window. SND.NXT stays; if the
  // peer takes the byte, its ACK (up to snd_max_) moves SND.NXT past it.
  ctx_.counters.zero_window_probes++;
  send_data_segment(snd_nxt_, 1, false);
  snd_max_ = seq_max(snd_max_, snd_nxt_ + SeqLen{1});
  // Probes go on as long as the peer answers; their interval backs off to persist_max.
  persist_backoff_ = std::min<std::uint32_t>(persist_backoff_ + 1, 16);
  Duration interval = std::max(rto_.rto(), ctx_.limits.rto.min_rto);
  for (std::uint32_t i = 0; i < persist_backoff_ && interval < ctx_.limits.persist_max; ++i) {
    interval = interval + interval;
  }
  persist_at_ = now + std::min(interval, ctx_.limits.persist_max);
}

void Connection::on_keepalive_timeout(Instant now) {
  keepalive_at_ = Instant::never();
  if (!keepalive_ || state_ != TcpState::Established) {
    return;
  }
  if (keepalive_sent_ >= ctx_.limits.keepalive_probes) {
    ctx_.counters.timeouts++;
    fail_with(SocketError::TimedOut);
    return;
  }
  // RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1 and no data, so the peer answers with an ACK.
  ctx_.counters.keepalive_probes++;
  keepalive_sent_++;
  send_control(snd_nxt_ - SeqLen{1}, wire::TcpFlags::Ack);
  keepalive_at_ = now + ctx_.limits.keepalive_interval;
}

void Connection::schedule_ack(Instant now, bool immediately) {
  // RFC 5681 4.2 / RFC 1122 4.2.3.2: ACK at least every second segment, and never later than
  // tcp.delayed_ack after the first unacknowledged one.
  ++unacked_segments_;
  if (immediately || unacked_segments_ >= 2 || ctx_.limits.delayed_ack == Duration::zero()) {
    ack_now_ = true;
    return;
  }
  if (delayed_ack_at_ == Instant::never()) {
    delayed_ack_at_ = now + ctx_.limits.delayed_ack;
  }
}

void Connection::enter_time_wait(Instant now) {
  set_state(TcpState::TimeWait);
  time_wait_at_ = now + ctx_.limits.msl + ctx_.limits.msl;
}

}  // namespace tapstack::tcp
