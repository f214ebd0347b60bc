// Segment arrival (RFC 9293 3.10.7), checked in the RFC's order: LISTEN
// (3.10.7.2), SYN-SENT (3.10.7.3), and the synchronized states (3.10.7.4):
// sequence number, RST, SYN, ACK, segment text, FIN. RST and SYN follow RFC
// 5961 (exact-match RST only; in-window RST and SYN get a rate-limited
// challenge ACK), and ACKs outside [SND.UNA - MAX.SND.WND, SND.NXT] are
// answered with an ACK and dropped (RFC 5961 5.2).

#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tapstack::tcp {

namespace {

using wire::TcpFlags;

// CVE-2019-11479: a peer announcing a tiny MSS would make us cut the stream into tiny segments.
constexpr std::uint16_t kSendMssFloor = 64;

SeqLen len_of(std::size_t n) { return SeqLen{static_cast<std::uint32_t>(n)}; }

}  // namespace

void Connection::on_segment(const Segment& seg, Instant now) {
  switch (state_) {
    case TcpState::Closed:
      return;  // the layer answers segments for CLOSED (3.10.7.1)
    case TcpState::Listen:
      input_listen(seg, now);
      break;
    case TcpState::SynSent:
      input_syn_sent(seg, now);
      break;
    default:
      input_synchronized(seg, now);
      break;
  }
  if (state_ != TcpState::Closed && state_ != TcpState::Listen) {
    output(now);  // what the new ACK and window allow, or the ACK owed
  }
}

void Connection::take_syn_options(const Segment& seg) {
  // RFC 9293 3.7.1: Eff.snd.MSS = min(SendMSS, MMS_S - 40); 536 when the peer sent none (RFC 6691).
  const std::uint16_t peer_mss = seg.mss.value_or(ctx_.limits.mss_default);
  smss_ = std::max(std::min(peer_mss, ctx_.local_mss), std::min(kSendMssFloor, ctx_.local_mss));
  // RFC 7323 2.2: scaling is on only when both SYNs carried the option; shifts above 14 count as 14.
  if (seg.window_scale.has_value() && offer_window_scale_) {
    snd_wscale_ = std::min<std::uint8_t>(*seg.window_scale, 14);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
    offer_window_scale_ = false;
  }
  // Congestion control starts on entering ESTABLISHED (set_state), after any SYN retransmission.
}

void Connection::input_listen(const Segment& seg, Instant now) {
  // 3.10.7.2: first RST (ignore), second ACK (reset), third SYN.
  if (seg.has(TcpFlags::Rst)) {
    return;
  }
  if (seg.has(TcpFlags::Ack)) {
    send_rst(seg.ack);
    set_state(TcpState::Closed);
    return;
  }
  if (!seg.has(TcpFlags::Syn)) {
    set_state(TcpState::Closed);
    return;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + SeqLen{1};
  rcv_adv_ = rcv_nxt_;
  take_syn_options(seg);
  // RFC 7323 2.2: the window of a SYN is not scaled.
  snd_wnd_ = seg.window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = iss_;
  last_received_ = now;
  // Data carried by the SYN is not kept: the peer sends it again once the window it covers is
  // acknowledged (3.10.7.2 allows queuing it; dropping is simpler and safe).
  set_state(TcpState::SynReceived);
  send_syn(true);
  snd_nxt_ = iss_ + SeqLen{1};
  snd_max_ = snd_nxt_;
  timed_seq_ = snd_nxt_;
  timed_at_ = now;
  arm_retransmit(now);
}

void Connection::input_syn_sent(const Segment& seg, Instant now) {
  // 3.10.7.3 first: the ACK must acknowledge our SYN.
  const bool has_ack = seg.has(TcpFlags::Ack);
  if (has_ack && (le(seg.ack, iss_) || gt(seg.ack, snd_max_))) {
    if (!seg.has(TcpFlags::Rst)) {
      send_rst(seg.ack);
    }
    return;
  }
  // Second: a RST with an acceptable ACK refuses the connection; without an ACK it is dropped.
  if (seg.has(TcpFlags::Rst)) {
    if (has_ack) {
      ctx_.counters.rx_rst++;
      ctx_.counters.resets_received++;
      fail_with(SocketError::ConnectionRefused);
    }
    return;
  }
  // Fourth: SYN.
  if (!seg.has(TcpFlags::Syn)) {
    return;
  }
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + SeqLen{1};
  rcv_adv_ = rcv_nxt_;
  last_received_ = now;
  take_syn_options(seg);
  snd_wnd_ = seg.window;  // RFC 7323 2.2: unscaled in a SYN
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = has_ack ? seg.ack : iss_;
  if (has_ack) {
    snd_una_ = seg.ack;
  }
  if (gt(snd_una_, iss_)) {
    if (timed_seq_.has_value() && ge(seg.ack, *timed_seq_)) {
      rto_.on_sample(now - timed_at_);
    }
    timed_seq_.reset();
    retransmit_at_ = Instant::never();
    retransmit_count_ = 0;
    set_state(TcpState::Established);
    if (keepalive_) {
      keepalive_at_ = now + ctx_.limits.keepalive_idle;
    }
    if (fin_queued_) {
      set_state(TcpState::FinWait1);  // shutdown during SYN-SENT: the FIN follows the queued data
    }
    ack_now_ = true;
    process_text(seg, now);
    if (seg.has(TcpFlags::Fin) && seg.seq + SeqLen{1} + len_of(seg.payload.size()) == rcv_nxt_) {
      process_fin(now);
    }
    return;
  }
  // Simultaneous open (3.10.7.3, figure 8 of 3.5): SYN-RECEIVED, answer with our SYN again plus ACK.
  set_state(TcpState::SynReceived);
  send_syn(true);
  arm_retransmit(now);
}

bool Connection::acceptable(const Segment& seg) const {
  // 3.10.7.4, the four cases of the acceptability test.
  const std::size_t window = receive_window();
  const SeqLen len = seg.len();
  const SeqLen wnd{static_cast<std::uint32_t>(window)};
  if (len.raw() == 0) {
    return window == 0 ? seg.seq == rcv_nxt_ : in_window(seg.seq, rcv_nxt_, wnd);
  }
  if (window == 0) {
    return false;
  }
  return in_window(seg.seq, rcv_nxt_, wnd) || in_window(seg.seq + len - SeqLen{1}, rcv_nxt_, wnd);
}

void Connection::challenge_ack(Instant now) {
  // RFC 5961 3.2 / 4.2, rate limited stack-wide (RFC 5961 7).
  if (ctx_.challenge_acks.allow(now)) {
    ctx_.counters.challenge_acks++;
    send_ack();
  } else {
    ctx_.counters.challenge_acks_suppressed++;
  }
}

void Connection::input_synchronized(const Segment& seg, Instant now) {
  last_received_ = now;
  if (persist_at_ != Instant::never()) {
    retransmit_count_ = 0;  // the peer answers: window probes go on (RFC 1122 4.2.2.17)
  }
  if (keepalive_ && state_ == TcpState::Established) {
    keepalive_sent_ = 0;
    keepalive_at_ = now + ctx_.limits.keepalive_idle;
  }
  // Our SYN-ACK was lost: the peer's SYN comes again (its number, outside the window now).
  if (state_ == TcpState::SynReceived && seg.has(TcpFlags::Syn) && !seg.flags.any(TcpFlags::Ack | TcpFlags::Rst) &&
      seg.seq == irs_) {
    send_syn(true);
    return;
  }
  // First: the sequence number.
  if (!acceptable(seg)) {
    ctx_.counters.rx_unacceptable++;
    if (seg.has(TcpFlags::Rst)) {
      ctx_.counters.rx_out_of_window_rst++;
      return;
    }
    // A retransmitted FIN in TIME-WAIT restarts the 2 MSL wait (3.10.7.4 eighth, TIME-WAIT).
    if (state_ == TcpState::TimeWait && seg.has(TcpFlags::Fin)) {
      time_wait_at_ = now + ctx_.limits.msl + ctx_.limits.msl;
    }
    // 3.10.7.4 first: "If the RCV.WND is zero, no segments will be acceptable, but special
    // allowance should be made to accept valid ACKs": a segment at RCV.NXT refused only for want
    // of window (the peer's data, or its zero-window probe) still has its ACK field processed --
    // else a slow reader's full buffer would stall our sending until the timer fires. Its text
    // and FIN are not taken.
    if (receive_window() == 0 && seg.seq == rcv_nxt_ && seg.has(TcpFlags::Ack) && !seg.has(TcpFlags::Syn) &&
        state_ != TcpState::SynReceived) {
      (void)process_ack(seg, now);
      if (state_ == TcpState::Closed) {
        return;
      }
    }
    ack_now_ = true;
    return;
  }
  // Second: RST (RFC 5961 3.2).
  if (seg.has(TcpFlags::Rst)) {
    process_rst(seg, now);
    return;
  }
  // Fourth: SYN. RFC 9293 3.10.7.4 fourth, SYN-RECEIVED (not a synchronized state, so RFC 5961 4.2
  // does not apply): a connection from a passive OPEN returns to LISTEN -- the listener is the
  // layer's, so this TCB just ends. In the synchronized states (and SYN-RECEIVED from an active
  // OPEN), RFC 5961 4.2: challenge ACK, whatever its number.
  if (seg.has(TcpFlags::Syn)) {
    if (state_ == TcpState::SynReceived && passive_) {
      set_state(TcpState::Closed);
      return;
    }
    challenge_ack(now);
    return;
  }
  // Fifth: ACK.
  if (!seg.has(TcpFlags::Ack)) {
    return;
  }
  if (!process_ack(seg, now) || state_ == TcpState::Closed) {
    return;
  }
  // Sixth (URG) is not supported: urgent data is delivered as ordinary data (RFC 6093 5).
  // Seventh: segment text.
  process_text(seg, now);
  if (state_ == TcpState::Closed) {
    return;
  }
  // Eighth: FIN, once everything before it has arrived.
  if (seg.has(TcpFlags::Fin)) {
    const SeqNum fin_at = seg.seq + len_of(seg.payload.size());
    if (!fin_received_ && fin_at == rcv_nxt_) {
      process_fin(now);
    } else if (!fin_received_ && gt(fin_at, rcv_nxt_) &&
               static_cast<std::size_t>((fin_at - rcv_nxt_).raw()) < receive_window()) {
      out_of_order_fin_ = fin_at;
      ack_now_ = true;
    } else {
      ack_now_ = true;
      if (state_ == TcpState::TimeWait) {
        time_wait_at_ = now + ctx_.limits.msl + ctx_.limits.msl;
      }
    }
  }
}

void Connection::process_rst(const Segment& seg, Instant now) {
  // RFC 5961 3.2: only a RST exactly at RCV.NXT resets; any other in-window RST is challenged.
  if (seg.seq != rcv_nxt_) {
    challenge_ack(now);
    return;
  }
  ctx_.counters.rx_rst++;
  switch (state_) {
    case TcpState::SynReceived:
      // 3.10.7.4: a passive open returns to LISTEN (the listener stays; this TCB goes); an active
      // one (simultaneous open) is refused.
      if (passive_) {
        set_state(TcpState::Closed);
      } else {
        ctx_.counters.resets_received++;
        fail_with(SocketError::ConnectionRefused);
      }
      return;
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
      ctx_.counters.resets_received++;
      if (send_buffer_) {
        send_buffer_->consume(send_buffer_->size());
      }
      fail_with(SocketError::ConnectionReset);
      return;
    default:  // CLOSING, LAST-ACK, TIME-WAIT
      set_state(TcpState::Closed);
      return;
  }
}

void Connection::update_send_window(const Segment& seg) {
  // 3.10.7.4 fifth, ESTABLISHED: take the window from the newest segment (WL1/WL2 rule).
  if (lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && le(snd_wl2_, seg.ack))) {
    snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    if (snd_wnd_ > 0) {
      persist_at_ = Instant::never();
      persist_backoff_ = 0;
    }
  }
}

bool Connection::process_ack(const Segment& seg, Instant now) {
  if (state_ == TcpState::SynReceived) {
    // 3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =< SND.NXT completes the handshake.
    if (!(lt(snd_una_, seg.ack) && le(seg.ack, snd_max_))) {
      send_rst(seg.ack);
      return false;
    }
    ensure_buffers();
    retransmit_count_ = 0;
    set_state(TcpState::Established);
    if (keepalive_) {
      keepalive_at_ = now + ctx_.limits.keepalive_idle;
    }
    if (fin_queued_) {
      set_state(TcpState::FinWait1);
    }
  }
  // RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
  if (gt(seg.ack, snd_max_)) {
    ctx_.counters.rx_ack_too_new++;
    ack_now_ = true;
    return false;
  }
  if (lt(seg.ack, snd_una_ - SeqLen{max_snd_wnd_})) {
    ctx_.counters.rx_ack_too_old++;
    ack_now_ = true;
    return false;
  }
  const std::uint32_t flight = (snd_max_ - snd_una_).raw();
  if (gt(seg.ack, snd_una_)) {
    const std::uint32_t acked = (seg.ack - snd_una_).raw();
    const SeqNum snd_una_before = snd_una_;
    // RFC 6298 2-3: one sample per round trip, never from a retransmitted segment (Karn).
    if (timed_seq_.has_value() && ge(seg.ack, *timed_seq_)) {
      rto_.on_sample(now - timed_at_);
      timed_seq_.reset();
    }
    if (send_buffer_) {
      const SeqNum data_end = buffer_seq_ + len_of(send_buffer_->size());
      const SeqNum upto = seq_min(seg.ack, data_end);
      if (gt(upto, buffer_seq_)) {
        send_buffer_->consume((upto - buffer_seq_).raw());
        buffer_seq_ = upto;
        if (!fin_queued_) {
          raise(tcp_event::Writable);
        }
      }
    }
    snd_una_ = seg.ack;
    if (lt(snd_nxt_, snd_una_)) {
      snd_nxt_ = snd_una_;  // a zero-window probe byte, or data sent before a timeout, was acknowledged
    }
    retransmit_count_ = 0;
    duplicate_acks_ = 0;
    // RFC 5681 3.1: "the acknowledgment of the SYN/ACK MUST NOT increase the size of the
    // congestion window": the SYN's sequence number is not data (passive open, simultaneous open).
    const std::uint32_t syn_acked = snd_una_before == iss_ ? 1U : 0U;
    if (acked > syn_acked &&
        congestion_->on_new_ack(seg.ack, acked - syn_acked, flight, snd_max_) ==
            CongestionAction::RetransmitFirstUnacked) {
      retransmit_first_unacked(now);
    }
    // RFC 6298 5.2 / 5.3.
    if (snd_una_ == snd_max_) {
      retransmit_at_ = Instant::never();
    } else {
      arm_retransmit(now);
    }
  } else if (seg.ack == snd_una_ && seg.payload.empty() && !seg.flags.any(TcpFlags::Syn | TcpFlags::Fin) &&
             lt(snd_una_, snd_max_) && (static_cast<std::uint32_t>(seg.window) << snd_wscale_) == snd_wnd_ &&
             snd_wnd_ != 0) {
    // RFC 5681 2: a duplicate ACK. Not while the peer's window is zero: then the only byte out is
    // a zero-window probe (RFC 9293 3.8.6.1) and the peer's answers to it say nothing about loss;
    // taking the third for one would "fast retransmit" data into the closed window.
    ctx_.counters.rx_duplicate_acks++;
    duplicate_acks_++;
    if (congestion_->on_duplicate_ack(flight, snd_max_, snd_una_) == CongestionAction::RetransmitFirstUnacked) {
      ctx_.counters.fast_retransmits++;
      retransmit_first_unacked(now);
    }
  }
  if (ge(seg.ack, snd_una_)) {
    update_send_window(seg);
  }
  const bool fin_acked = fin_sent_ && ge(snd_una_, fin_seq_ + SeqLen{1});
  switch (state_) {
    case TcpState::FinWait1:
      if (fin_acked) {
        set_state(TcpState::FinWait2);
        // An orphaned connection does not wait for the peer's FIN forever.
        if (orphaned_) {
          time_wait_at_ = now + ctx_.limits.msl + ctx_.limits.msl;
        }
      }
      break;
    case TcpState::Closing:
      if (fin_acked) {
        enter_time_wait(now);
      }
      break;
    case TcpState::LastAck:
      if (fin_acked) {
        set_state(TcpState::Closed);
        return false;
      }
      break;
    default:
      break;
  }
  return true;
}

void Connection::process_text(const Segment& seg, Instant now) {
  if (seg.payload.empty()) {
    return;
  }
  if (state_ != TcpState::Established && state_ != TcpState::FinWait1 && state_ != TcpState::FinWait2) {
    return;  // 3.10.7.4 seventh: after the peer's FIN, text is ignored
  }
  if (orphaned_) {
    // The user closed the socket: nobody will read this (RFC 9293 3.10.4 / RFC 1122 4.2.2.13).
    ctx_.counters.rx_data_after_close++;
    send_rst(snd_nxt_);
    fail_with(SocketError::ConnectionReset);
    return;
  }
  ctx_.counters.rx_bytes += seg.payload.size();
  SeqNum start = seg.seq + SeqLen{seg.has(TcpFlags::Syn) ? 1U : 0U};
  Bytes data = seg.payload;
  if (lt(start, rcv_nxt_)) {
    const std::size_t old = (rcv_nxt_ - start).raw();
    if (old >= data.size()) {
      ctx_.counters.rx_duplicate_bytes += data.size();
      ack_now_ = true;  // RFC 5681 4.2 / 3.10.7.4: duplicate data is acknowledged at once
      return;
    }
    ctx_.counters.rx_duplicate_bytes += old;
    data = data.subspan(old);
    start = rcv_nxt_;
  }
  const std::size_t offset = (start - rcv_nxt_).raw();
  const std::size_t space = receive_buffer_->free();
  if (offset + data.size() > space) {
    ctx_.counters.rx_beyond_window_bytes += offset >= space ? data.size() : offset + data.size() - space;
  }
  const bool had_gap = receive_buffer_->out_of_order_ranges() > 0;
  const std::size_t advanced = receive_buffer_->insert(offset, data);
  if (advanced == 0) {
    // RFC 5681 4.2: an out-of-order segment is acknowledged at once (a duplicate ACK).
    ctx_.counters.rx_out_of_order++;
    ack_now_ = true;
    return;
  }
  rcv_nxt_ += len_of(advanced);
  raise(tcp_event::Readable);
  // RFC 5681 4.2: a segment that fills (part of) a gap is acknowledged at once; otherwise delay.
  schedule_ack(now, had_gap);
  if (out_of_order_fin_.has_value() && *out_of_order_fin_ == rcv_nxt_) {
    out_of_order_fin_.reset();
    process_fin(now);
  }
}

void Connection::process_fin(Instant now) {
  fin_received_ = true;
  rcv_nxt_ += SeqLen{1};
  ack_now_ = true;  // 3.10.7.4 eighth: acknowledge the FIN
  raise(tcp_event::PeerClosed | tcp_event::Readable);
  switch (state_) {
    case TcpState::SynReceived:
    case TcpState::Established:
      set_state(TcpState::CloseWait);
      break;
    case TcpState::FinWait1:
      // Our FIN is not acknowledged yet (else we would be in FIN-WAIT-2): simultaneous close.
      set_state(TcpState::Closing);
      break;
    case TcpState::FinWait2:
      enter_time_wait(now);
      break;
    default:
      break;
  }
}

}  // namespace tapstack::tcp
