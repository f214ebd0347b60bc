#pragma once
// Errors the socket API returns as values (DESIGN.md: errors are values).

#include <cstdint>
#include <string_view>

namespace tapstack {

enum class SocketError : std::uint8_t {
  AddressInUse,     // udp_bind: the port is bound already
  TooManySockets,   // udp_bind: udp.sockets_max, or no ephemeral port left
  BadSocket,        // no such socket (never opened, or closed)
  MessageTooLong,   // payload beyond what one IPv4 datagram carries (65507 bytes for UDP)
  NoRoute,          // destination neither on-link nor reachable through a gateway (or our own)
  WouldBlock,       // transmit queue or ARP pending queue full: try again later
  InvalidArgument,  // destination 0.0.0.0 or port 0; a call the socket's kind or state does not allow
  // TCP (RFC 9293 3.9 error reports to the user)
  NotConnected,       // tcp_send/tcp_receive before the connection exists (a listener, or closed)
  ConnectionClosing,  // tcp_send after tcp_shutdown/tcp_close ("connection closing")
  ConnectionReset,    // the peer reset the connection, or tcp_abort was called
  ConnectionRefused,  // our SYN was answered by a RST
  TimedOut,           // retransmissions (or keepalive probes) gave up
};

constexpr std::string_view to_string(SocketError e) {
  switch (e) {
    case SocketError::AddressInUse: return "address in use";
    case SocketError::TooManySockets: return "too many sockets";
    case SocketError::BadSocket: return "bad socket";
    case SocketError::MessageTooLong: return "message too long";
    case SocketError::NoRoute: return "no route to host";
    case SocketError::WouldBlock: return "would block";
    case SocketError::InvalidArgument: return "invalid argument";
    case SocketError::NotConnected: return "not connected";
    case SocketError::ConnectionClosing: return "connection closing";
    case SocketError::ConnectionReset: return "connection reset";
    case SocketError::ConnectionRefused: return "connection refused";
    case SocketError::TimedOut: return "timed out";
  }
  return "unknown";
}

}  // namespace tapstack
