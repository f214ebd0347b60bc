#pragma once
// The TCP connection states of RFC 9293 3.3.2.

#include <cstdint>
#include <string_view>

namespace tapstack {

// RFC 9293 3.3.2: the eleven connection states.
enum class TcpState : std::uint8_t {
  Closed, Listen, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait,
};
std::string_view to_string(TcpState state);  // "ESTABLISHED", "SYN-SENT", ... as RFC 9293 spells them

// Things that happened on a TCP socket since the events were last taken (Stack::tcp_take_events).
// Level conditions (readable, writable) are in TcpSocketInfo; these are edges, so an app polling
// its sockets never misses one. Signals per RFC 9293 3.9 / RFC 1122 4.2.4.
namespace tcp_event {
inline constexpr std::uint32_t Connected = 1U << 0;     // the handshake completed (connect and accepted sockets)
inline constexpr std::uint32_t Readable = 1U << 1;      // new data arrived
inline constexpr std::uint32_t Writable = 1U << 2;      // send buffer space was freed by an ACK
inline constexpr std::uint32_t PeerClosed = 1U << 3;    // the peer's FIN arrived (end of its data once read)
inline constexpr std::uint32_t Reset = 1U << 4;         // the connection was reset (by the peer)
inline constexpr std::uint32_t TimedOut = 1U << 5;      // retransmissions or keepalive gave up
inline constexpr std::uint32_t Refused = 1U << 6;       // the SYN we sent was answered by a RST
inline constexpr std::uint32_t Closed = 1U << 7;        // the connection reached CLOSED or TIME-WAIT: all done
inline constexpr std::uint32_t Acceptable = 1U << 8;    // a listener has a connection for tcp_accept
}  // namespace tcp_event

}  // namespace tapstack
