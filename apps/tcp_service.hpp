#pragma once
// The TCP halves of the simplest Internet services, as Apps (apps/tcp_server.hpp
// does the listening, accepting and bookkeeping):
//
//   TcpEcho     RFC 862: "Once a connection is established any data received
//               is sent back. This continues until the calling user
//               terminates the connection."
//   TcpDiscard  RFC 863: "Once a connection is established any data received
//               is thrown away. No response is sent."
//   TcpChargen  RFC 864: "Once a connection is established the server sends
//               a stream of data. Any data received is thrown away." The
//               stream is the RFC's rotating 72-character lines (see
//               apps/generated_content.hpp for the exact pattern).
//
// Each closes its side once the peer has closed its own (end of stream read):
// echo after everything received has been sent back, discard at once,
// chargen at once (what is queued is still delivered, then the FIN).
//
// Echo has a bounded buffer per connection (kEchoBufferBytes) and reads only
// into its free space: a peer that sends but does not read fills our send
// buffer, then this buffer, then the stack's receive buffer, and its window
// closes. Memory per connection stays bounded, whatever the peer does.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/byte_ring.hpp"
#include "apps/tcp_server.hpp"

namespace tapstack::apps {

// Echo's per-connection buffer: data received and not yet taken back by tcp_send.
inline constexpr std::size_t kEchoBufferBytes = 64 * 1024;

class TcpEcho final : public TcpServer {
 public:
  explicit TcpEcho(std::uint16_t port, TcpServerLimits limits = {}) : TcpServer(port, limits) {}
  std::string name() const override;
  std::string description() const override;

 private:
  struct EchoConnection;
  std::unique_ptr<Connection> make_connection(Stack& stack, TcpSocketId socket, Instant now) override;
  Step serve(Stack& stack, Connection& connection, Instant now) override;
};

class TcpDiscard final : public TcpServer {
 public:
  explicit TcpDiscard(std::uint16_t port, TcpServerLimits limits = {}) : TcpServer(port, limits) {}
  std::string name() const override;
  std::string description() const override;

 private:
  std::unique_ptr<Connection> make_connection(Stack& stack, TcpSocketId socket, Instant now) override;
  Step serve(Stack& stack, Connection& connection, Instant now) override;

  std::vector<std::byte> scratch_ = std::vector<std::byte>(kEchoBufferBytes);  // what is read, dropped
};

class TcpChargen final : public TcpServer {
 public:
  explicit TcpChargen(std::uint16_t port, TcpServerLimits limits = {}) : TcpServer(port, limits) {}
  std::string name() const override;
  std::string description() const override;

 private:
  struct ChargenConnection;
  std::unique_ptr<Connection> make_connection(Stack& stack, TcpSocketId socket, Instant now) override;
  Step serve(Stack& stack, Connection& connection, Instant now) override;

  std::vector<std::byte> scratch_ = std::vector<std::byte>(16 * 1024);  // input, dropped
};

}  // namespace tapstack::apps
