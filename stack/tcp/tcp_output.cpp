// What a connection sends and when (RFC 9293 3.8.6, 3.7.4; RFC 5681; RFC 1122
// 4.2.3.4): the usable window is min(SND.WND, cwnd) minus what is in flight;
// a segment smaller than the MSS goes only when it empties the queue and Nagle
// allows it (nothing unacknowledged, or Nagle off), or when it fills half the
// largest window the peer offered (sender SWS avoidance). The FIN rides on the
// last data segment. Every segment carries the current ACK and window, so
// sending data also answers any ACK owed.

#include <algorithm>

#include "stack/tcp/connection.hpp"

namespace tapstack::tcp {

namespace {

bool sends_data(TcpState state) {
  switch (state) {
    case TcpState::Established:
    case TcpState::CloseWait:
    case TcpState::FinWait1:
    case TcpState::Closing:
    case TcpState::LastAck:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::size_t Connection::receive_window() const {
  const std::size_t space = receive_buffer_ ? receive_buffer_->free() : ctx_.limits.receive_buffer_bytes;
  // RFC 7323 2.3: the largest window the scaled 16-bit field can describe.
  return std::min(space, std::size_t{0xffff} << rcv_wscale_);
}

std::uint16_t Connection::window_to_advertise() {
  const std::size_t space = receive_window();
  const std::size_t current = lt(rcv_nxt_, rcv_adv_) ? static_cast<std::size_t>((rcv_adv_ - rcv_nxt_).raw()) : 0;
  // RFC 9293 3.8.6.2.2 (receiver SWS avoidance): move the right edge only in steps of
  // min(RCV.BUFF/2, MSS); until then keep offering the edge already offered (never moving it
  // left, RFC 9293 3.8.6.2.2 / RFC 7323 2.4; rounding to the scale may shave a few bytes).
  const std::size_t capacity = receive_buffer_ ? receive_buffer_->capacity() : ctx_.limits.receive_buffer_bytes;
  const std::size_t step = std::min<std::size_t>(capacity / 2, ctx_.local_mss);
  const std::size_t window = space >= current + step ? space : current;
  const std::size_t field = std::min<std::size_t>(window >> rcv_wscale_, 0xffff);
  const SeqNum edge = rcv_nxt_ + SeqLen{static_cast<std::uint32_t>(field << rcv_wscale_)};
  if (gt(edge, rcv_adv_)) {
    rcv_adv_ = edge;
  }
  return static_cast<std::uint16_t>(field);
}

void Connection::send_control(SeqNum seq, wire::TcpFlags flags, Bytes payload_first, Bytes payload_second) {
  wire::TcpRepr header;
  header.source_port = tuple_.local_port;
  header.destination_port = tuple_.remote_port;
  header.seq_number = seq.raw();
  header.flags = flags;
  if (flags.has(wire::TcpFlags::Ack)) {
    header.ack_number = rcv_nxt_.raw();
    header.window = window_to_advertise();
    // An ACK goes out: nothing is owed any more (RFC 9293 3.8.6.3).
    ack_now_ = false;
    unacked_segments_ = 0;
    delayed_ack_at_ = Instant::never();
  }
  header.payload_len = payload_first.size() + payload_second.size();
  ctx_.counters.tx_segments++;
  ctx_.counters.tx_bytes += header.payload_len;
  ctx_.output.send_segment(tuple_, header, payload_first, payload_second);
}

void Connection::send_syn(bool with_ack) {
  wire::TcpRepr header;
  header.source_port = tuple_.local_port;
  header.destination_port = tuple_.remote_port;
  header.seq_number = iss_.raw();
  header.flags = with_ack ? (wire::TcpFlags::Syn | wire::TcpFlags::Ack) : wire::TcpFlags::Syn;
  if (with_ack) {
    header.ack_number = rcv_nxt_.raw();
  }
  // RFC 7323 2.2: the window in a SYN is never scaled.
  const std::size_t window = std::min<std::size_t>(receive_window(), 0xffff);
  header.window = static_cast<std::uint16_t>(window);
  if (with_ack) {
    rcv_adv_ = rcv_nxt_ + SeqLen{static_cast<std::uint32_t>(window)};
  }
  // RFC 9293 3.7.1 / RFC 6691: announce the MSS we can receive; RFC 7323 2.2: offer scaling in a
  // SYN, and in a SYN-ACK only when the SYN offered it.
  (void)header.options.add_mss(ctx_.local_mss);
  if (offer_window_scale_) {
    (void)header.options.add_window_scale(rcv_wscale_);
  }
  header.options.pad();
  ctx_.counters.tx_segments++;
  ctx_.output.send_segment(tuple_, header, {}, {});
}

void Connection::send_ack() {
  // RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, SND.NXT being the next new sequence
  // number. Our snd_nxt_ goes back to SND.UNA after a retransmission timeout (go-back-N) while the
  // peer may hold everything up to snd_max_ already: an empty segment below its RCV.NXT fails its
  // acceptability test (3.10.7.4 first) and its ACK is ignored -- and when both sides do that, each
  // answers the other's ACK with another one, forever. So: the highest sequence number sent, kept
  // inside the window the peer last offered (a zero-window probe byte or a FIN beyond the window
  // may not have been taken; with a zero window only SEG.SEQ = RCV.NXT is acceptable).
  SeqNum seq = snd_nxt_;
  if (snd_wnd_ > 0) {
    const SeqNum last_in_window = snd_una_ + SeqLen{snd_wnd_ - 1};
    seq = seq_max(snd_nxt_, seq_min(snd_max_, last_in_window));
  }
  send_control(seq, wire::TcpFlags::Ack);
}

void Connection::send_rst(SeqNum seq) {
  ctx_.counters.tx_rst++;
  wire::TcpRepr header;
  header.source_port = tuple_.local_port;
  header.destination_port = tuple_.remote_port;
  header.seq_number = seq.raw();
  header.flags = wire::TcpFlags::Rst;
  ctx_.counters.tx_segments++;
  ctx_.output.send_segment(tuple_, header, {}, {});
}

void Connection::send_data_segment(SeqNum seq, std::size_t len, bool fin) {
  SendBuffer::Slices slices{};
  if (len > 0) {
    slices = send_buffer_->slices(static_cast<std::size_t>((seq - buffer_seq_).raw()), len);
  }
  wire::TcpFlags flags = wire::TcpFlags::Ack;
  const SeqNum data_end = buffer_seq_ + SeqLen{static_cast<std::uint32_t>(send_buffer_->size())};
  // RFC 9293 3.9 "SEND": PSH on the segment that empties the send queue.
  if (len > 0 && seq + SeqLen{static_cast<std::uint32_t>(len)} == data_end) {
    flags |= wire::TcpFlags::Psh;
  }
  if (fin) {
    flags |= wire::TcpFlags::Fin;
  }
  send_control(seq, flags, slices.first, slices.second);
}

void Connection::output(Instant now) {
  bool sent = false;
  if (sends_data(state_) && send_buffer_) {
    const SeqNum data_end = buffer_seq_ + SeqLen{static_cast<std::uint32_t>(send_buffer_->size())};
    // Bounded: every iteration sends at least one byte or the FIN, or stops.
    while (true) {
      const std::size_t unsent = lt(snd_nxt_, data_end) ? static_cast<std::size_t>((data_end - snd_nxt_).raw()) : 0;
      const bool fin_due = fin_queued_ && snd_nxt_ == data_end;
      if (unsent == 0 && !fin_due) {
        break;
      }
      const std::size_t in_flight = static_cast<std::size_t>((snd_nxt_ - snd_una_).raw());
      const std::size_t window = std::min<std::size_t>(snd_wnd_, congestion_->window());
      const std::size_t usable = window > in_flight ? window - in_flight : 0;
      const std::size_t len = std::min({unsent, usable, std::size_t{smss_}});
      const bool fin = fin_queued_ && len == unsent;
      if (len == 0 && !(fin && unsent == 0)) {
        break;  // window closed: the persist timer (below) or an ACK reopens it
      }
      if (len > 0 && len < smss_) {
        const bool empties_queue = len == unsent;
        const bool nothing_in_flight = snd_nxt_ == snd_una_;
        const bool half_window = max_snd_wnd_ > 0 && len >= max_snd_wnd_ / 2;
        if (!((empties_queue && (!nagle_ || nothing_in_flight || fin)) || half_window)) {
          break;  // RFC 9293 3.7.4 (Nagle) and 3.8.6.2.1 (SWS): wait for an ACK
        }
      }
      const bool retransmission = lt(snd_nxt_, snd_max_);
      send_data_segment(snd_nxt_, len, fin);
      sent = true;
      if (retransmission) {
        ctx_.counters.retransmissions++;
        retransmissions_total_++;
      }
      const SeqLen advanced{static_cast<std::uint32_t>(len) + (fin ? 1U : 0U)};
      // RFC 6298 3 (Karn): time only a segment sent for the first time, one at a time.
      if (!timed_seq_.has_value() && !retransmission) {
        timed_seq_ = snd_nxt_ + advanced;
        timed_at_ = now;
      }
      snd_nxt_ += advanced;
      snd_max_ = seq_max(snd_max_, snd_nxt_);
      if (fin) {
        fin_sent_ = true;
        fin_seq_ = data_end;
      }
      // RFC 6298 5.1: start the timer when a segment with data (or FIN) goes and it is not running.
      if (retransmit_at_ == Instant::never()) {
        arm_retransmit(now);
      }
      if (fin) {
        break;
      }
    }
    // Data waits and nothing is in flight that an ACK would answer: the window is zero (RFC 9293
    // 3.8.6.1: probe it) or too small for the SWS rules (RFC 1122 4.2.3.4: the override timeout
    // sends what fits). Either way a timer must run, or the connection would wait forever.
    const bool data_waits = lt(snd_nxt_, data_end);
    if (!sent && data_waits && snd_nxt_ == snd_una_ && persist_at_ == Instant::never() &&
        retransmit_at_ == Instant::never()) {
      persist_backoff_ = 0;
      persist_at_ = now + std::clamp(rto_.rto(), ctx_.limits.rto.min_rto, ctx_.limits.persist_max);
    }
  }
  if (ack_now_ && !sent) {
    send_ack();
  }
}

void Connection::retransmit_first_unacked(Instant now) {
  (void)now;
  if (!send_buffer_ || !lt(snd_una_, snd_max_)) {
    return;
  }
  const SeqNum data_end = buffer_seq_ + SeqLen{static_cast<std::uint32_t>(send_buffer_->size())};
  const std::size_t unacked_data = lt(snd_una_, data_end) ? static_cast<std::size_t>((data_end - snd_una_).raw()) : 0;
  const std::size_t len = std::min<std::size_t>(unacked_data, smss_);
  const bool fin = fin_sent_ && len == unacked_data;
  if (len == 0 && !fin) {
    return;
  }
  send_data_segment(snd_una_, len, fin);
  ctx_.counters.retransmissions++;
  retransmissions_total_++;
  // Karn: a sample spanning a retransmitted segment is ambiguous.
  timed_seq_.reset();
}

}  // namespace tapstack::tcp
