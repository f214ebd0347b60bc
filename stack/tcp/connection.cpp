// Connection: construction, the user calls of RFC 9293 3.10 (OPEN, SEND,
// RECEIVE, CLOSE, ABORT) and the one place where the state changes.

#include "stack/tcp/connection.hpp"

#include <algorithm>

namespace tapstack {

std::string_view to_string(TcpState state) {
  switch (state) {
    case TcpState::Closed: return "CLOSED";
    case TcpState::Listen: return "LISTEN";
    case TcpState::SynSent: return "SYN-SENT";
    case TcpState::SynReceived: return "SYN-RECEIVED";
    case TcpState::Established: return "ESTABLISHED";
    case TcpState::FinWait1: return "FIN-WAIT-1";
    case TcpState::FinWait2: return "FIN-WAIT-2";
    case TcpState::CloseWait: return "CLOSE-WAIT";
    case TcpState::Closing: return "CLOSING";
    case TcpState::LastAck: return "LAST-ACK";
    case TcpState::TimeWait: return "TIME-WAIT";
  }
  return "?";
}

}  // namespace tapstack

namespace tapstack::tcp {

namespace {

// RFC 7323 2.3: the smallest shift that lets a 16-bit field describe the whole buffer (at most 14).
std::uint8_t window_shift_for(std::size_t buffer_bytes) {
  std::uint8_t shift = 0;
  while (shift < 14 && (buffer_bytes >> shift) > 0xffff) {
    ++shift;
  }
  return shift;
}

}  // namespace

Connection::Connection(TcpContext context, FourTuple tuple, SeqNum iss)
    : ctx_(context),
      tuple_(tuple),
      iss_(iss),
      snd_una_(iss),
      snd_nxt_(iss),
      snd_max_(iss),
      buffer_seq_(iss + SeqLen{1}),
      congestion_(make_new_reno(NewRenoConfig{ctx_.limits.initial_window_segments, 3})),
      rto_(ctx_.limits.rto),
      nagle_(ctx_.limits.nagle),
      keepalive_(ctx_.limits.keepalive) {
  offer_window_scale_ = ctx_.limits.window_scaling;
  rcv_wscale_ = offer_window_scale_ ? window_shift_for(ctx_.limits.receive_buffer_bytes) : 0;
}

void Connection::set_state(TcpState next) {
  if (next == state_) {
    return;
  }
  const TcpState previous = state_;
  state_ = next;
  ctx_.counters.entered[static_cast<std::size_t>(next)]++;
  if (next == TcpState::Established) {
    ctx_.counters.established++;
    // The initial window is set once the handshake is over, so that a SYN or SYN,ACK lost before
    // (on_retransmit_timeout told the algorithm) makes it one segment: RFC 5681 3.1 "MUST".
    congestion_->start(smss_, iss_ + SeqLen{1});
    raise(tcp_event::Connected | tcp_event::Writable);
  }
  if (next == TcpState::Closed || next == TcpState::TimeWait) {
    raise(tcp_event::Closed);
    // Memory goes back at once: TIME-WAIT and CLOSED send nothing more, and keep the receive
    // buffer only while it holds data the user may still read.
    send_buffer_.reset();
    if (receive_buffer_ && (orphaned_ || receive_buffer_->readable() == 0)) {
      receive_buffer_.reset();
    }
    // Nothing more to send or time, except TIME-WAIT's own timer (enter_time_wait).
    retransmit_at_ = Instant::never();
    persist_at_ = Instant::never();
    keepalive_at_ = Instant::never();
    delayed_ack_at_ = Instant::never();
    if (next == TcpState::Closed) {
      time_wait_at_ = Instant::never();
    }
  }
  (void)previous;
}

void Connection::fail_with(SocketError error, TcpState next) {
  if (!error_.has_value()) {
    error_ = error;
  }
  switch (error) {
    case SocketError::ConnectionReset: raise(tcp_event::Reset); break;
    case SocketError::ConnectionRefused: raise(tcp_event::Refused); break;
    case SocketError::TimedOut: raise(tcp_event::TimedOut); break;
    default: break;
  }
  if (receive_buffer_) {
    receive_buffer_->clear_out_of_order();
  }
  set_state(next);
}

void Connection::ensure_buffers() {
  if (!send_buffer_) {
    send_buffer_.emplace(ctx_.limits.send_buffer_bytes);
  }
  if (!receive_buffer_) {
    receive_buffer_.emplace(ctx_.limits.receive_buffer_bytes, ctx_.limits.out_of_order_ranges_max);
  }
}

std::size_t Connection::writable() const {
  switch (state_) {
    case TcpState::SynSent:
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::CloseWait:
      return (fin_queued_ || !send_buffer_) ? 0 : send_buffer_->free();
    default:
      return 0;
  }
}

std::size_t Connection::memory_held() const {
  return (send_buffer_ ? send_buffer_->capacity() : 0) + (receive_buffer_ ? receive_buffer_->capacity() : 0);
}

void Connection::open_active(Instant now) {
  ensure_buffers();
  passive_ = false;
  ctx_.counters.active_opens++;
  set_state(TcpState::SynSent);
  last_received_ = now;
  send_syn(false);
  snd_nxt_ = iss_ + SeqLen{1};
  snd_max_ = snd_nxt_;
  timed_seq_ = snd_nxt_;
  timed_at_ = now;
  arm_retransmit(now);
}

void Connection::open_passive() {
  passive_ = true;
  set_state(TcpState::Listen);
}

std::size_t Connection::send(Bytes data, Instant now) {
  if (writable() == 0) {
    return 0;
  }
  const std::size_t taken = send_buffer_->write(data);
  if (state_ == TcpState::Established || state_ == TcpState::CloseWait) {
    output(now);
  }
  return taken;
}

std::size_t Connection::receive(MutableBytes out, Instant now) {
  if (!receive_buffer_) {
    return 0;
  }
  const std::size_t before = receive_window();
  const std::size_t n = receive_buffer_->read(out);
  // RFC 9293 3.8.6.2.2 (receiver SWS avoidance): tell the peer about the space freed only once it
  // amounts to min(RCV.BUFF/2, MSS) beyond the window it already knows of.
  const std::size_t advertised = lt(rcv_nxt_, rcv_adv_) ? static_cast<std::size_t>((rcv_adv_ - rcv_nxt_).raw()) : 0;
  const std::size_t threshold = std::min<std::size_t>(receive_buffer_->capacity() / 2, ctx_.local_mss);
  const bool synchronized_receiving = state_ == TcpState::Established || state_ == TcpState::FinWait1 ||
                                      state_ == TcpState::FinWait2;
  if (n > 0 && synchronized_receiving && receive_window() >= advertised + threshold && before < advertised + threshold) {
    ack_now_ = true;
    output(now);
  }
  return n;
}

void Connection::shutdown(Instant now) {
  switch (state_) {
    case TcpState::Listen:
      // 3.10.4: delete the TCB; nothing was synchronized.
      set_state(TcpState::Closed);
      return;
    case TcpState::SynSent:
      // 3.10.4 deletes the TCB here, which would lose data tcp_send already accepted; the socket
      // API promises a FIN after queued data, so with data queued (or the user still holding the
      // socket) the FIN waits for ESTABLISHED, as in SYN-RECEIVED ("queue for processing").
      if (orphaned_ && (!send_buffer_ || send_buffer_->empty())) {
        set_state(TcpState::Closed);
      } else {
        fin_queued_ = true;
      }
      return;
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::CloseWait:
      if (fin_queued_) {
        return;
      }
      fin_queued_ = true;
      // SYN-RECEIVED: the FIN goes once established (3.10.4: "queue for processing after entering
      // ESTABLISHED"), which output() only does from ESTABLISHED on.
      if (state_ == TcpState::Established) {
        set_state(TcpState::FinWait1);
      } else if (state_ == TcpState::CloseWait) {
        set_state(TcpState::LastAck);
      }
      if (state_ != TcpState::SynReceived) {
        output(now);
      }
      return;
    default:
      // Closing already ("error: connection closing" is the socket layer's to report). Closed by
      // the user in FIN-WAIT-2: nobody reads any more, so the peer's FIN is not awaited forever.
      if (orphaned_ && state_ == TcpState::FinWait2 && time_wait_at_ == Instant::never()) {
        time_wait_at_ = now + ctx_.limits.msl + ctx_.limits.msl;
      }
      return;
  }
}

void Connection::abort(Instant now) {
  (void)now;
  switch (state_) {
    case TcpState::SynReceived:
    case TcpState::Established:
    case TcpState::FinWait1:
    case TcpState::FinWait2:
    case TcpState::CloseWait:
      // 3.10.5: send a reset (SEQ = SND.NXT).
      send_rst(snd_nxt_);
      break;
    default:
      break;
  }
  ctx_.counters.aborts++;
  if (!error_.has_value()) {
    error_ = SocketError::ConnectionReset;
  }
  if (send_buffer_) {
    send_buffer_->consume(send_buffer_->size());
  }
  set_state(TcpState::Closed);
}

void Connection::end_time_wait() {
  if (state_ == TcpState::TimeWait) {
    set_state(TcpState::Closed);
  }
}

void Connection::set_keepalive(bool enabled, Instant now) {
  keepalive_ = enabled;
  keepalive_sent_ = 0;
  keepalive_at_ = (enabled && state_ == TcpState::Established) ? now + ctx_.limits.keepalive_idle : Instant::never();
}

}  // namespace tapstack::tcp
