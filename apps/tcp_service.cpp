#include "apps/tcp_service.hpp"

#include "apps/generated_content.hpp"

namespace tapstack::apps {

// ---- TcpEcho --------------------------------------------------------------------------------------

struct TcpEcho::EchoConnection final : Connection {
  explicit EchoConnection(TcpSocketId s) : Connection(s) {}
  ByteRing pending{kEchoBufferBytes};  // received, not yet sent back
  bool peer_closed = false;            // end of stream read
};

std::string TcpEcho::name() const { return "tcp_echo_" + std::to_string(port()); }

std::string TcpEcho::description() const { return "TCP echo (RFC 862) on port " + std::to_string(port()); }

std::unique_ptr<TcpServer::Connection> TcpEcho::make_connection(Stack&, TcpSocketId socket, Instant) {
  return std::make_unique<EchoConnection>(socket);
}

TcpServer::Step TcpEcho::serve(Stack& stack, Connection& connection, Instant) {
  auto& c = static_cast<EchoConnection&>(connection);
  for (std::size_t round = 0; round < kServeRoundsMax; ++round) {
    bool progress = false;
    // What waits goes back first, so the buffer frees up for more.
    while (!c.pending.empty()) {
      auto sent = send(stack, c, c.pending.read_span());
      if (!sent.ok()) {
        if (sent.error() != SocketError::WouldBlock) {
          return fail_connection(stack, c, sent.error());
        }
        break;  // the send buffer is full: a Writable event follows the peer's ACK
      }
      if (*sent == 0) {
        break;
      }
      c.pending.consume(*sent);
      progress = true;
    }
    // Only as much as can be held: the rest waits in the stack (backpressure).
    if (!c.peer_closed && c.pending.free() > 0) {
      auto got = receive(stack, c, c.pending.write_span());
      if (!got.ok()) {
        if (got.error() != SocketError::WouldBlock) {
          return fail_connection(stack, c, got.error());
        }
      } else if (*got == 0) {
        c.peer_closed = true;  // RFC 862: the user terminated; echo what is left, then close
        progress = true;
      } else {
        c.pending.commit(*got);
        progress = true;
      }
    }
    if (c.peer_closed && c.pending.empty()) {
      return close_connection(stack, c);
    }
    if (!progress) {
      return Step::Wait;
    }
  }
  return Step::Again;
}

// ---- TcpDiscard -----------------------------------------------------------------------------------

std::string TcpDiscard::name() const { return "tcp_discard_" + std::to_string(port()); }

std::string TcpDiscard::description() const {
  return "TCP discard (RFC 863) on port " + std::to_string(port());
}

std::unique_ptr<TcpServer::Connection> TcpDiscard::make_connection(Stack&, TcpSocketId socket, Instant) {
  return std::make_unique<Connection>(socket);
}

TcpServer::Step TcpDiscard::serve(Stack& stack, Connection& c, Instant) {
  for (std::size_t round = 0; round < kServeRoundsMax; ++round) {
    auto got = receive(stack, c, MutableBytes{scratch_});
    if (!got.ok()) {
      if (got.error() == SocketError::WouldBlock) {
        return Step::Wait;
      }
      return fail_connection(stack, c, got.error());
    }
    if (*got == 0) {
      return close_connection(stack, c);  // everything read: the close is orderly (no RST)
    }
  }
  return Step::Again;
}

// ---- TcpChargen -----------------------------------------------------------------------------------

struct TcpChargen::ChargenConnection final : Connection {
  explicit ChargenConnection(TcpSocketId s) : Connection(s) {}
  std::uint64_t offset = 0;  // bytes of the stream sent so far
};

std::string TcpChargen::name() const { return "tcp_chargen_" + std::to_string(port()); }

std::string TcpChargen::description() const {
  return "TCP character generator (RFC 864) on port " + std::to_string(port());
}

std::unique_ptr<TcpServer::Connection> TcpChargen::make_connection(Stack&, TcpSocketId socket, Instant) {
  return std::make_unique<ChargenConnection>(socket);
}

TcpServer::Step TcpChargen::serve(Stack& stack, Connection& connection, Instant) {
  auto& c = static_cast<ChargenConnection&>(connection);
  for (std::size_t round = 0; round < kServeRoundsMax; ++round) {
    bool progress = false;
    // As much of the stream as the send buffer takes, straight from the pattern table.
    auto sent = send(stack, c, chargen_span_at(c.offset));
    if (sent.ok()) {
      c.offset += *sent;
      progress = *sent > 0;
    } else if (sent.error() != SocketError::WouldBlock) {
      return fail_connection(stack, c, sent.error());
    }
    // RFC 864: "Any data received is thrown away". Reading it also notices the peer's close.
    auto got = receive(stack, c, MutableBytes{scratch_});
    if (got.ok()) {
      if (*got == 0) {
        return close_connection(stack, c);
      }
      progress = true;
    } else if (got.error() != SocketError::WouldBlock) {
      return fail_connection(stack, c, got.error());
    }
    if (!progress) {
      return Step::Wait;
    }
  }
  return Step::Again;
}

}  // namespace tapstack::apps
