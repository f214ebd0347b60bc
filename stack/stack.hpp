#pragma once
// Stack: one IPv4 host on one Ethernet interface (issue 4): Ethernet dispatch,
// ARP (RFC 826), IPv4 input and output with fragmentation and reassembly
// (RFC 791, RFC 1122 3.2.1 and 3.3), ICMP echo and errors (RFC 792, RFC 1122
// 3.2.2) and UDP with a socket API (RFC 768, RFC 1122 4.1).
//
// Like everything in stack/, it has no clock, no I/O and no randomness of its
// own (DESIGN.md "the one idea"): it is driven through receive() and poll(),
// transmits through the link::Device it is given, and draws from an Rng
// seeded by the caller (IP identification, ephemeral ports).
//
// Files by concern (all define members of this class):
//   stack/ip/ipv4_host.cpp        construction, poll(), counters, memory
//   stack/link/ethernet_input.cpp receive(): Ethernet dispatch and ARP
//   stack/ip/ipv4_input.cpp       IPv4 validation, reassembly, demultiplexing
//   stack/ip/ipv4_output.cpp      routing, fragmentation, resolution, tx queue
//   stack/ip/icmp_handling.cpp    echo, errors (policy and rate limit)
//   stack/udp/udp_layer.cpp       UDP input and the socket API
//
// Re-entrancy: nothing calls back into application code; received data waits
// in bounded queues (udp_receive, take_echo_reply) for the caller to take.
// Frames the device refuses wait in a bounded transmit queue, retried on every
// receive() and poll().

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/counters.hpp"
#include "stack/ip/icmp_policy.hpp"
#include "stack/ip/reassembly.hpp"
#include "stack/link/arp_cache.hpp"
#include "stack/link/device.hpp"
#include "stack/tcp/connection.hpp"
#include "stack/tcp/isn.hpp"
#include "stack/tcp/tcp_counters.hpp"
#include "stack/socket/socket_error.hpp"
#include "stack/tcp/state.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/arp.hpp"
#include "stack/wire/ethernet.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack {

// A UDP datagram received on a socket.
struct Datagram {
  wire::Ipv4Address source;
  std::uint16_t source_port = 0;
  ByteVector payload;
  wire::Ipv4Address destination;  // ours, or the (subnet) broadcast address it was sent to
};

// An echo reply received for an echo request (from send_echo_request or anyone).
struct EchoReplyInfo {
  wire::Ipv4Address source;
  std::uint16_t id = 0;
  std::uint16_t seq = 0;
  ByteVector data;
};

using UdpSocketId = std::uint32_t;
using TcpSocketId = std::uint32_t;


struct TcpEndpoint {
  wire::Ipv4Address address;
  std::uint16_t port = 0;
  bool operator==(const TcpEndpoint&) const = default;
};

// A snapshot of one TCP socket (Stack::tcp_info).
struct TcpSocketInfo {
  TcpState state = TcpState::Closed;
  TcpEndpoint local;
  TcpEndpoint remote;                  // zero for a listener
  std::size_t readable = 0;            // bytes tcp_receive would return now
  std::size_t writable = 0;            // bytes tcp_send would take now
  std::size_t unacknowledged = 0;      // bytes in the send buffer (sent or not, not acknowledged)
  bool peer_closed = false;            // FIN received: once `readable` is 0, tcp_receive returns 0 (EOF)
  std::optional<SocketError> error;    // ConnectionReset / ConnectionRefused / TimedOut once failed
  std::size_t pending_accept = 0;      // listeners: connections waiting for tcp_accept
  std::uint64_t retransmissions = 0;   // segments this connection retransmitted
};

class Stack {
 public:
  // RFC 6335 6 / RFC 6056 2.1: the dynamic port range ephemeral ports come from.
  static constexpr std::uint16_t kEphemeralPortFirst = 49152;
  static constexpr std::uint16_t kEphemeralPortLast = 65535;
  // The largest UDP payload one IPv4 datagram carries (65535 - 20 - 8).
  static constexpr std::size_t kUdpPayloadMax = 65507;
  // The largest echo data one IPv4 datagram carries (65535 - 20 - 8).
  static constexpr std::size_t kEchoDataMax = 65507;
  // RFC 1812 4.3.2.3: an ICMP error datagram is at most 576 bytes.
  static constexpr std::size_t kIcmpErrorDatagramMax = 576;
  // RFC 894: an Ethernet frame carries at least 46 data bytes; shorter frames are padded (no FCS).
  static constexpr std::size_t kEthernetFrameMin = 60;

  // `config` must validate() and its MTU must not exceed device.mtu(); otherwise this throws
  // std::invalid_argument with the reason (start-up configuration, not the packet path).
  Stack(StackConfig config, link::Device& device, std::uint64_t seed);
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // The two driving calls (DESIGN.md): never block, never read a clock. Instants passed in
  // must not decrease (an earlier one is treated as the latest seen).
  // A frame arrived from the device (Ethernet header first, no FCS); only valid during the call.
  void receive(Bytes frame, Instant now);
  // Runs timers (ARP retries and expiry, reassembly timeouts), sends a pending gratuitous
  // ARP, retries refused frames. Returns the next instant it wants to be polled at.
  Instant poll(Instant now);
  // Sends a gratuitous ARP for our address at the next poll (also done once at the first poll).
  void announce();

  // ---- UDP sockets (non-blocking; errors are values) ----
  // Binds `port` (0: an ephemeral port, RFC 6056 algorithm 1).
  Result<UdpSocketId, SocketError> udp_bind(std::uint16_t port);
  Result<Unit, SocketError> udp_close(UdpSocketId socket);
  Result<std::uint16_t, SocketError> udp_local_port(UdpSocketId socket) const;
  // Sends one datagram from our address and the socket's port. Ok also when it waits for
  // ARP resolution (it may still be dropped then, counted under arp.pending_dropped_*).
  Result<Unit, SocketError> udp_send_to(UdpSocketId socket, wire::Ipv4Address destination,
                                        std::uint16_t port, Bytes payload);
  // The oldest received datagram; nullopt when the queue is empty or the socket is unknown.
  std::optional<Datagram> udp_receive(UdpSocketId socket);
  // Datagrams waiting on the socket (0 for an unknown socket).
  std::size_t udp_pending(UdpSocketId socket) const;

  // ---- TCP sockets (non-blocking; errors are values; stack/socket/tcp_socket.cpp) ----
  // Nothing here calls back into the app: progress shows in tcp_info() and tcp_take_events().
  // Data is copied in (tcp_send) and out (tcp_receive) once each.
  //
  // Passive open on `port` (RFC 9293 3.10.1): connections complete in the background and wait
  // for tcp_accept; at most `backlog` (clamped to 1..tcp.backlog_max) wait at once, half-open
  // ones included, and SYNs beyond that are dropped (counted: tcp.listen_overflow).
  Result<TcpSocketId, SocketError> tcp_listen(std::uint16_t port, std::size_t backlog);
  // The oldest established connection of a listener; WouldBlock when there is none.
  Result<TcpSocketId, SocketError> tcp_accept(TcpSocketId listener);
  // Active open (RFC 9293 3.10.1) from an ephemeral port. Returns at once in SYN-SENT; the
  // Connected event (or Refused / TimedOut) follows.
  Result<TcpSocketId, SocketError> tcp_connect(wire::Ipv4Address destination, std::uint16_t port);
  // Queues what fits of `data` in the send buffer and returns how much (RFC 9293 3.10.2; allowed
  // from SYN-SENT on). WouldBlock when nothing fits; ConnectionClosing after shutdown/close;
  // the connection's error once it failed.
  Result<std::size_t, SocketError> tcp_send(TcpSocketId socket, Bytes data);
  // Moves received in-order bytes into `out` (RFC 9293 3.10.3). Returns how many; 0 means end of
  // stream (the peer closed and everything was read; also for an empty `out`). WouldBlock when
  // nothing is there yet; the connection's error once it failed and nothing is left to read.
  Result<std::size_t, SocketError> tcp_receive(TcpSocketId socket, MutableBytes out);
  // Half close (RFC 9293 3.10.4): a FIN follows the queued data; receiving goes on.
  Result<Unit, SocketError> tcp_shutdown(TcpSocketId socket);
  // Close and release the handle (RFC 9293 3.10.4): queued data and the FIN are still delivered
  // in the background. Unread received data makes it an abort instead (RFC 1122 4.2.2.13: RST).
  // Closing a listener resets the connections not yet accepted.
  Result<Unit, SocketError> tcp_close(TcpSocketId socket);
  // Abort (RFC 9293 3.10.5): RST to the peer, everything dropped, handle released.
  Result<Unit, SocketError> tcp_abort(TcpSocketId socket);
  // Nagle's algorithm (RFC 9293 3.7.4) for this socket; on by default (tcp.nagle).
  Result<Unit, SocketError> tcp_set_nagle(TcpSocketId socket, bool enabled);
  // Keepalive (RFC 1122 4.2.3.6) for this socket; off by default (tcp.keepalive).
  Result<Unit, SocketError> tcp_set_keepalive(TcpSocketId socket, bool enabled);
  Result<TcpSocketInfo, SocketError> tcp_info(TcpSocketId socket) const;
  // The tcp_event bits raised since the last call, cleared by taking them (0 for unknown ids).
  std::uint32_t tcp_take_events(TcpSocketId socket);
  // TCBs in each state (CLOSED: none are kept), for counters and tests.
  std::size_t tcp_connections() const;
  std::size_t tcp_connections_in(TcpState state) const;

  // ---- ICMP echo from the stack itself (tests, tools) ----
  Result<Unit, SocketError> send_echo_request(wire::Ipv4Address destination, std::uint16_t id,
                                              std::uint16_t seq, Bytes data);
  // Echo replies received, oldest first (bounded: icmp.echo_replies_queued_max).
  std::optional<EchoReplyInfo> take_echo_reply();

  // ---- inspection ----
  const StackConfig& config() const { return config_; }
  // The host's own counters; the ARP cache's and the reassembler's are in arp_cache_counters()
  // and reassembly_counters(). visit_counters() walks all of them.
  const StackCounters& counters() const { return counters_; }
  const link::ArpCounters& arp_cache_counters() const { return arp_.counters(); }
  const ip::ReassemblyCounters& reassembly_counters() const { return reassembler_.counters(); }
  const tcp::TcpCounters& tcp_counters() const { return tcp_counters_; }
  const link::ArpCache& arp_cache() const { return arp_; }
  // Calls f(std::string_view name, std::uint64_t value) for every counter, in a stable order,
  // with stable dotted names ("eth.rx_not_for_us", "arp.requests_sent", "ip.reassembly.timeouts").
  template <class F>
  void visit_counters(F&& f) const {
    for_each_counter([&f](std::string_view name, std::uint64_t value) { f(name, value); });
  }
  void for_each_counter(const std::function<void(std::string_view, std::uint64_t)>& f) const;
  // The counter named `name` (as visit_counters names it); nullopt if there is none.
  std::optional<std::uint64_t> counter(std::string_view name) const;

  // Bytes held in the ARP pending queues, reassembly, UDP receive queues, the echo reply
  // queue and the transmit queue (payload bytes; bookkeeping not included).
  std::size_t memory_held() const;
  // The sum of the configured limits of the above: memory_held() never exceeds it.
  std::size_t memory_limit() const;
  // Frames refused by the device and waiting for the next poll.
  std::size_t tx_queue_frames() const { return tx_queue_.size(); }

 private:
  struct UdpSocket {
    std::uint16_t port = 0;
    std::deque<Datagram> queue;
    std::size_t queued_bytes = 0;  // payload bytes in queue
  };
  // Where a datagram goes on the link: a neighbour to resolve, or a fixed group address.
  struct Route {
    wire::Ipv4Address next_hop;
    std::optional<wire::MacAddress> mac;  // broadcast/multicast: no resolution
  };
  // A whole datagram for us, after validation and reassembly.
  struct Inbound {
    const wire::Ipv4Repr& header;
    Bytes header_bytes;  // the header as received (or re-emitted, after reassembly), for ICMP quotes
    Bytes payload;
    bool to_broadcast;   // destination was 255.255.255.255 or our subnet broadcast
    bool link_group;     // the frame came to the Ethernet broadcast or a multicast group
  };
  enum class IcmpError : std::uint8_t { ProtocolUnreachable, PortUnreachable, ReassemblyTimeExceeded };

  // stack/link/ethernet_input.cpp
  bool accepts_destination(wire::MacAddress mac) const;
  void arp_input(const wire::EthernetView& frame, Instant now);
  void send_arp(wire::ArpOperation operation, wire::MacAddress ethernet_destination, wire::MacAddress target_mac,
                wire::Ipv4Address target_ip);
  void send_arp_request(wire::Ipv4Address ip);
  void send_gratuitous_arp();

  // stack/ip/ipv4_input.cpp
  void ipv4_input(Bytes packet, bool link_group, Instant now);
  void deliver(const Inbound& datagram, Instant now);
  void reassembly_expired(const ip::ExpiredDatagram& expired, Instant now);

  // stack/ip/ipv4_output.cpp
  std::optional<Route> route(wire::Ipv4Address destination) const;
  // Builds and sends one datagram from our address (fragmenting it when larger than the MTU).
  Result<Unit, SocketError> send_ipv4(wire::IpProtocol protocol, wire::Ipv4Address destination, Bytes payload);
  void output_datagram(const Route& route, ByteVector datagram);
  void link_send(wire::MacAddress destination, wire::EtherType type, Bytes payload);
  void transmit_frame(ByteVector frame);
  // The same for a frame built in scratch memory: copied only if it has to wait in the queue.
  void transmit_frame(Bytes frame);
  void flush_tx_queue();
  // The number of frames a datagram of `payload_len` bytes becomes.
  std::size_t fragments_needed(std::size_t payload_len) const;

  // stack/ip/icmp_handling.cpp
  void icmp_input(const Inbound& datagram, Instant now);
  void send_icmp_error(IcmpError kind, const wire::Ipv4Repr& offending, Bytes header_bytes, Bytes payload,
                       bool link_group, Instant now);

  // stack/tcp/tcp_layer.cpp: demultiplexing, listeners, RST for closed ports, the segment path out.
  // A TCB with or without a user handle (accept queue, closed by the user) is one entry.
  struct TcpEntry {
    std::unique_ptr<tcp::Connection> connection;  // null: a listener
    // Listener.
    std::uint16_t listen_port = 0;
    std::size_t backlog = 0;
    std::deque<TcpSocketId> accept_queue;  // established, waiting for tcp_accept
    std::size_t pending = 0;               // children not yet accepted (half-open included)
    std::uint32_t listener_events = 0;
    // Connection.
    TcpSocketId listener = 0;              // passive and not yet accepted: the listener it waits on
    bool queued_for_accept = false;
    bool user_holds = false;               // the user has the handle (from connect/accept/listen)
  };
  class TcpSegmentOutput final : public tcp::SegmentOutput {
   public:
    explicit TcpSegmentOutput(Stack& stack) : stack_(stack) {}
    void send_segment(const tcp::FourTuple& tuple, const wire::TcpRepr& header, Bytes first, Bytes second) override {
      stack_.tcp_transmit(tuple, header, first, second);
    }

   private:
    Stack& stack_;
  };
  void tcp_input(const Inbound& datagram, Instant now);
  void tcp_transmit(const tcp::FourTuple& tuple, const wire::TcpRepr& header, Bytes first, Bytes second);
  void tcp_reply_rst(const tcp::FourTuple& tuple, const tcp::Segment& segment);
  TcpSocketId tcp_create_connection(const tcp::FourTuple& tuple);
  // After anything happened to a connection: moves an established child to its listener's accept
  // queue, and drops a CLOSED TCB from the demultiplexer (and entirely once nobody holds it).
  void tcp_after(TcpSocketId id);
  Instant tcp_poll();
  std::optional<std::uint16_t> tcp_pick_ephemeral_port(wire::Ipv4Address remote, std::uint16_t remote_port);
  tcp::TcpContext tcp_context();
  TcpEntry* tcp_entry(TcpSocketId id);
  const TcpEntry* tcp_entry(TcpSocketId id) const;
  void tcp_close_listener(TcpSocketId id);
  // The connection behind a handle the user holds: BadSocket for an unknown or released handle,
  // `if_listener` for a listener.
  Result<tcp::Connection*, SocketError> tcp_user_connection(TcpSocketId socket, SocketError if_listener);

  // stack/udp/udp_layer.cpp
  void udp_input(const Inbound& datagram, Instant now);
  std::optional<std::uint16_t> pick_ephemeral_port();
  UdpSocket* find_socket(UdpSocketId id);
  const UdpSocket* find_socket(UdpSocketId id) const;

  void advance(Instant now) { now_ = std::max(now_, now); }

  StackConfig config_;
  link::Device& device_;
  Rng rng_;
  Instant now_ = Instant::epoch();  // socket calls before the first receive/poll run at the epoch
  StackCounters counters_;

  link::ArpCache arp_;
  bool started_ = false;
  bool announce_pending_ = false;

  ip::Reassembler reassembler_;
  ip::TokenBucket icmp_errors_;
  std::uint16_t next_ip_id_ = 0;
  std::deque<EchoReplyInfo> echo_replies_;
  std::size_t echo_reply_bytes_ = 0;

  std::map<UdpSocketId, UdpSocket> sockets_;
  std::map<std::uint16_t, UdpSocketId> ports_;  // bound port -> socket
  UdpSocketId next_socket_id_ = 1;

  tcp::TcpCounters tcp_counters_;
  ip::TokenBucket tcp_challenge_acks_;
  tcp::IsnKey isn_key_;
  TcpSegmentOutput tcp_output_{*this};
  std::map<TcpSocketId, TcpEntry> tcp_entries_;
  std::map<tcp::FourTuple, TcpSocketId> tcp_demux_;  // every TCB not CLOSED
  std::map<std::uint16_t, TcpSocketId> tcp_listeners_;
  std::size_t tcp_tcbs_ = 0;                          // entries with a connection
  TcpSocketId next_tcp_id_ = 1;
  ByteVector tcp_frame_;                              // scratch: one outgoing frame, built in place
  std::vector<TcpSocketId> tcp_due_;                  // scratch: connections whose timers are due

  std::deque<ByteVector> tx_queue_;  // frames the device refused, oldest first
  std::size_t tx_queue_bytes_ = 0;
};

}  // namespace tapstack
