#include "apps/connect_app.hpp"

#include <utility>

namespace tapstack::apps {

namespace {

// Copy passes per poll: each moves up to a ring's worth each way.
constexpr std::size_t kPumpRoundsMax = 16;

}  // namespace

ConnectApp::ConnectApp(ConnectConfig config, ByteSource& source, ByteSink& sink)
    : config_(config),
      source_(source),
      sink_(sink),
      to_peer_(config.buffer_bytes),
      to_sink_(config.buffer_bytes) {}

std::string ConnectApp::peer_text() const {
  return config_.address.to_string() + ":" + std::to_string(config_.port);
}

std::string ConnectApp::name() const { return "connect"; }

std::string ConnectApp::description() const { return "connection to " + peer_text(); }

Result<Unit, std::string> ConnectApp::start(Stack& stack) {
  auto socket = stack.tcp_connect(config_.address, config_.port);
  if (!socket.ok()) {
    return fail("connect to " + peer_text() + ": " + std::string(to_string(socket.error())));
  }
  socket_ = *socket;
  return Unit{};
}

void ConnectApp::stop(Stack& stack) {
  if (socket_) {
    (void)stack.tcp_close(*socket_);
    socket_.reset();
  }
}

void ConnectApp::finish(Stack& stack, std::string error) {
  if (socket_) {
    // Success: everything is delivered both ways and the handle only needs releasing. Failure:
    // the connection is dead, or the copy cannot complete (a source or sink error): RST.
    (void)(error.empty() ? stack.tcp_close(*socket_) : stack.tcp_abort(*socket_));
    socket_.reset();
  }
  error_ = std::move(error);
  done_ = true;
}

bool ConnectApp::pump(Stack& stack) {
  bool progress = false;
  // Source -> ring, only into free space.
  if (!source_ended_ && !to_peer_.full()) {
    const IoResult r = source_.read(to_peer_.write_span());
    switch (r.status) {
      case IoStatus::Ok:
        to_peer_.commit(r.bytes);
        counters_.bytes_from_source += r.bytes;
        progress = true;
        break;
      case IoStatus::End:
        source_ended_ = true;
        progress = true;
        break;
      case IoStatus::WouldBlock:
        counters_.source_blocked++;
        break;
      case IoStatus::Error:
        finish(stack, "input: " + r.error);
        return false;
    }
  }
  // Ring -> connection (tcp_send is allowed from SYN-SENT on: data waits for the handshake).
  while (!to_peer_.empty()) {
    auto sent = stack.tcp_send(*socket_, to_peer_.read_span());
    if (!sent.ok()) {
      // NotConnected: a stack that does not queue data before the handshake; it goes after.
      if (sent.error() == SocketError::WouldBlock || (!connected_ && sent.error() == SocketError::NotConnected)) {
        break;
      }
      finish(stack, peer_text() + ": " + std::string(to_string(sent.error())));
      return false;
    }
    if (*sent == 0) {
      break;
    }
    to_peer_.consume(*sent);
    counters_.bytes_sent += *sent;
    progress = true;
  }
  // End of input, all of it queued: our FIN follows it (RFC 9293 3.10.4, half close).
  if (connected_ && source_ended_ && to_peer_.empty() && !shut_down_) {
    if (auto shut = stack.tcp_shutdown(*socket_); !shut.ok()) {
      finish(stack, peer_text() + ": " + std::string(to_string(shut.error())));
      return false;
    }
    shut_down_ = true;
    progress = true;
  }
  // Connection -> ring, only into free space (a slow sink closes our receive window). Nothing to
  // receive before the handshake completes.
  if (connected_ && !peer_closed_ && !to_sink_.full()) {
    auto got = stack.tcp_receive(*socket_, to_sink_.write_span());
    if (got.ok()) {
      if (*got == 0) {
        peer_closed_ = true;
      } else {
        to_sink_.commit(*got);
        counters_.bytes_received += *got;
      }
      progress = true;
    } else if (got.error() != SocketError::WouldBlock) {
      finish(stack, peer_text() + ": " + std::string(to_string(got.error())));
      return false;
    }
  }
  // Ring -> sink.
  while (!to_sink_.empty()) {
    const IoResult w = sink_.write(to_sink_.read_span());
    if (w.status == IoStatus::WouldBlock) {
      counters_.sink_blocked++;
      break;
    }
    if (w.status != IoStatus::Ok) {
      finish(stack, "output: " + (w.error.empty() ? std::string("closed") : w.error));
      return false;
    }
    if (w.bytes == 0) {
      break;
    }
    to_sink_.consume(w.bytes);
    counters_.bytes_to_sink += w.bytes;
    progress = true;
  }
  return progress;
}

Instant ConnectApp::poll(Stack& stack, Instant now) {
  if (done_ || !socket_) {
    return Instant::never();
  }
  const std::uint32_t events = stack.tcp_take_events(*socket_);
  if ((events & tcp_event::Connected) != 0) {
    connected_ = true;
  }
  if (!connected_ && (events & (tcp_event::Refused | tcp_event::Reset | tcp_event::TimedOut)) != 0) {
    // The handshake failed (RFC 9293 3.10.7.3: a RST acceptable in SYN-SENT means "connection
    // refused"); nothing was exchanged, so there is nothing to drain first.
    auto info = stack.tcp_info(*socket_);
    const SocketError error = info.ok() && info->error ? *info->error
                              : (events & tcp_event::Refused) != 0 ? SocketError::ConnectionRefused
                              : (events & tcp_event::TimedOut) != 0 ? SocketError::TimedOut
                                                                     : SocketError::ConnectionReset;
    finish(stack, peer_text() + ": " + std::string(to_string(error)));
    return Instant::never();
  }
  bool more = true;
  for (std::size_t round = 0; round < kPumpRoundsMax && more; ++round) {
    more = pump(stack);
    if (done_) {
      return Instant::never();
    }
  }
  if (shut_down_ && peer_closed_ && to_sink_.empty()) {
    // Done once our FIN is acknowledged too (TIME-WAIT after an active close, CLOSED after a
    // passive one), so exiting right after cannot lose what we sent.
    auto info = stack.tcp_info(*socket_);
    if (!info.ok()) {
      finish(stack, {});  // the stack has forgotten the connection: it completed
    } else if (info->error) {
      finish(stack, peer_text() + ": " + std::string(to_string(*info->error)));
    } else if (info->state == TcpState::TimeWait || info->state == TcpState::Closed) {
      finish(stack, {});
    }
    return Instant::never();
  }
  return more ? now : Instant::never();
}

void ConnectApp::visit_counters(const std::function<void(std::string_view, std::uint64_t)>& f) const {
  counters_.visit(f);
}

}  // namespace tapstack::apps
