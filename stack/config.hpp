#pragma once
// StackConfig: every limit of the IPv4 host is a named field here (DESIGN.md:
// "limits are named constants in one config struct"), each with a test that
// hits it. validate() rejects nonsense at start-up so the packet path can rely
// on sane values (e.g. an MTU that holds an IPv4 header plus 8 bytes).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/tcp/rto.hpp"
#include "stack/wire/address.hpp"

namespace tapstack {

// RFC 826 cache, pending queues and request retries (stack/link/arp_cache.hpp).
struct ArpLimits {
  std::size_t cache_entries_max = 256;                // resolved + pending entries; LRU-evicted beyond
  Duration entry_lifetime = Duration::seconds(60);
  Duration request_interval = Duration::seconds(1);   // retry spacing for an unresolved next hop
  std::uint32_t request_attempts_max = 3;             // then give up: drop + count the queued packets
  std::size_t pending_packets_per_neighbor_max = 16;  // packets queued per unresolved next hop
  std::size_t pending_bytes_total_max = 256 * 1024;   // all queued packets together
};

// IPv4 reassembly (stack/ip/reassembly.hpp).
struct ReassemblyLimits {
  Duration timeout = Duration::seconds(30);           // RFC 1122 3.3.2: 60..120 s suggested; configurable
  std::size_t datagrams_max = 64;                     // datagrams being reassembled at once
  std::size_t datagram_bytes_max = 65535;             // per datagram (header + payload)
  std::size_t total_bytes_max = 1024 * 1024;          // all buffered fragments together
};

// Generated ICMP errors, a token bucket (RFC 1812 4.3.2.8 / RFC 1122 3.2.2 rate limiting).
struct IcmpLimits {
  std::uint32_t errors_per_second = 100;
  std::uint32_t error_burst = 20;
  std::size_t echo_replies_queued_max = 64;           // echo replies kept for Stack::take_echo_reply()
  std::size_t echo_reply_bytes_max = 256 * 1024;      // their data bytes together
};

struct UdpLimits {
  std::size_t sockets_max = 64;
  std::size_t receive_queue_datagrams_max = 128;      // per socket
  std::size_t receive_queue_bytes_max = 256 * 1024;   // per socket (payload bytes)
};

struct InterfaceConfig {
  wire::MacAddress mac;
  wire::Ipv4Address address;
  std::uint8_t prefix_len = 24;
  std::optional<wire::Ipv4Address> gateway;
  std::size_t mtu = 1500;                             // IP MTU: bytes after the Ethernet header
  // Link-layer multicast groups accepted besides broadcast (Ethernet dispatch); at most kMulticastMax.
  std::vector<wire::MacAddress> multicast_macs;
  static constexpr std::size_t kMulticastMax = 32;

  // The netmask for prefix_len (host order), e.g. 0xffffff00 for /24.
  constexpr std::uint32_t netmask() const {
    return prefix_len == 0 ? 0 : prefix_len >= 32 ? 0xffffffffU : ~((std::uint32_t{1} << (32 - prefix_len)) - 1);
  }
  // The all-ones host part of our prefix (RFC 1122 3.2.1.3 (d)). A /31 or /32 has no directed
  // broadcast (RFC 3021), so the limited broadcast stands in (already accepted anyway).
  constexpr wire::Ipv4Address subnet_broadcast() const {
    if (prefix_len >= 31) {
      return wire::Ipv4Address::broadcast();
    }
    return wire::Ipv4Address{(address.value & netmask()) | ~netmask()};
  }
  // True when `ip` is inside our prefix (reached directly, without the gateway).
  constexpr bool on_link(wire::Ipv4Address ip) const { return (ip.value & netmask()) == (address.value & netmask()); }
};

// TCP (stack/tcp, RFC 9293 and companions). Every queue and buffer is bounded here.
struct TcpLimits {
  std::size_t connections_max = 1024;                 // TCBs of every state but LISTEN (TIME-WAIT included)
  std::size_t listeners_max = 64;
  std::size_t backlog_max = 128;                      // a listen() backlog is clamped to 1..backlog_max
  std::size_t send_buffer_bytes = 1024 * 1024;        // per connection (allocated once established)
  std::size_t receive_buffer_bytes = 1024 * 1024;     // per connection; the window offered is at most this
  std::size_t out_of_order_ranges_max = 32;           // islands of out-of-order data held per connection
  std::uint16_t mss_default = 536;                    // RFC 9293 3.7.1 / RFC 6691: peer sent no MSS option
  bool window_scaling = true;                         // RFC 7323 2: offer the window scale option
  Duration msl = Duration::seconds(30);               // TIME-WAIT lasts 2 * msl (RFC 9293 3.4.2)
  tcp::RtoConfig rto;                                   // RFC 6298: initial 1 s, min 200 ms, max 60 s
  std::uint32_t retransmissions_max = 12;             // data/FIN retransmissions, then "timed out" (RFC 1122 4.2.3.5 R2)
  std::uint32_t syn_retransmissions_max = 6;          // SYN and SYN-ACK retransmissions
  Duration delayed_ack = Duration::milliseconds(40);  // RFC 1122 4.2.3.2 / RFC 9293 3.8.6.3: at most 500 ms (issue: <= 200 ms)
  bool nagle = true;                                  // RFC 9293 3.7.4; per socket: Stack::tcp_set_nagle
  std::uint32_t initial_window_segments = 10;         // RFC 6928
  std::uint32_t challenge_acks_per_second = 100;      // RFC 5961 7: rate limit of challenge ACKs (and RSTs we send)
  bool keepalive = false;                             // RFC 1122 4.2.3.6: off by default
  Duration keepalive_idle = Duration::seconds(7200);
  Duration keepalive_interval = Duration::seconds(75);
  std::uint32_t keepalive_probes = 9;
  Duration persist_max = Duration::seconds(60);       // zero-window probe interval ceiling (RFC 9293 3.8.6.1)
};

struct StackConfig {
  InterfaceConfig interface;
  ArpLimits arp;
  ReassemblyLimits reassembly;
  IcmpLimits icmp;
  UdpLimits udp;
  TcpLimits tcp;
  std::uint8_t default_ttl = 64;
  std::size_t tx_queue_frames_max = 1024;             // frames the device refused, kept for the next poll
  Duration tx_retry_interval = Duration::milliseconds(1);  // poll() deadline while that queue is not empty

  // Ok, or an error naming the field ("arp.request_attempts_max must be >= 1").
  Result<Unit, std::string> validate() const;
};

// Header-only so the config needs no source file of its own (stack/CMakeLists.txt globs the layer
// directories, not stack/ itself).
inline Result<Unit, std::string> StackConfig::validate() const {
  auto bad = [](const char* what) { return fail(std::string(what)); };
  // Interface.
  if (!interface.mac.is_unicast() || interface.mac == wire::MacAddress{}) {
    return bad("interface.mac must be a unicast, non-zero address");
  }
  if (interface.address.is_unspecified() || interface.address.is_broadcast() || interface.address.is_multicast() ||
      interface.address.is_loopback()) {
    return bad("interface.address must be a unicast address");
  }
  if (interface.prefix_len > 32) {
    return bad("interface.prefix_len must be <= 32");
  }
  if (interface.prefix_len < 31 && (interface.address.value & ~interface.netmask()) == ~interface.netmask()) {
    return bad("interface.address must not be the subnet broadcast address");
  }
  if (interface.gateway.has_value() && !interface.on_link(*interface.gateway)) {
    return bad("interface.gateway must be on the interface's prefix");
  }
  if (interface.gateway.has_value() && *interface.gateway == interface.address) {
    return bad("interface.gateway must not be our own address");
  }
  // RFC 791: every host must accept 68-byte datagrams without further fragmentation (60-byte header +
  // 8 data bytes); fragments carry multiples of 8 payload bytes, so fewer than 68 cannot work.
  if (interface.mtu < 68 || interface.mtu > 65535) {
    return bad("interface.mtu must be in 68..65535");
  }
  if (interface.multicast_macs.size() > InterfaceConfig::kMulticastMax) {
    return bad("interface.multicast_macs must hold at most 32 groups");
  }
  for (const auto& group : interface.multicast_macs) {
    if (!group.is_multicast() || group.is_broadcast()) {
      return bad("interface.multicast_macs must hold multicast (not broadcast) addresses");
    }
  }
  if (default_ttl == 0) {
    return bad("default_ttl must be >= 1");
  }
  if (tx_queue_frames_max == 0) {
    return bad("tx_queue_frames_max must be >= 1");
  }
  if (tx_retry_interval <= Duration::zero()) {
    return bad("tx_retry_interval must be > 0");
  }
  // ARP.
  if (arp.cache_entries_max == 0) {
    return bad("arp.cache_entries_max must be >= 1");
  }
  if (arp.entry_lifetime <= Duration::zero()) {
    return bad("arp.entry_lifetime must be > 0");
  }
  if (arp.request_interval <= Duration::zero()) {
    return bad("arp.request_interval must be > 0");
  }
  if (arp.request_attempts_max == 0) {
    return bad("arp.request_attempts_max must be >= 1");
  }
  if (arp.pending_packets_per_neighbor_max == 0) {
    return bad("arp.pending_packets_per_neighbor_max must be >= 1");
  }
  if (arp.pending_bytes_total_max == 0) {
    return bad("arp.pending_bytes_total_max must be >= 1");
  }
  // Reassembly.
  if (reassembly.timeout <= Duration::zero()) {
    return bad("reassembly.timeout must be > 0");
  }
  if (reassembly.datagrams_max == 0) {
    return bad("reassembly.datagrams_max must be >= 1");
  }
  // RFC 791 / RFC 1122 3.3.2: a host must reassemble at least 576-byte datagrams (EMTU_R).
  if (reassembly.datagram_bytes_max < 576 || reassembly.datagram_bytes_max > 65535) {
    return bad("reassembly.datagram_bytes_max must be in 576..65535");
  }
  if (reassembly.total_bytes_max < reassembly.datagram_bytes_max) {
    return bad("reassembly.total_bytes_max must be >= reassembly.datagram_bytes_max");
  }
  // ICMP.
  if (icmp.error_burst == 0 && icmp.errors_per_second != 0) {
    return bad("icmp.error_burst must be >= 1 when icmp.errors_per_second > 0");
  }
  if (icmp.echo_replies_queued_max == 0) {
    return bad("icmp.echo_replies_queued_max must be >= 1");
  }
  // UDP.
  if (udp.sockets_max == 0) {
    return bad("udp.sockets_max must be >= 1");
  }
  if (udp.receive_queue_datagrams_max == 0) {
    return bad("udp.receive_queue_datagrams_max must be >= 1");
  }
  if (udp.receive_queue_bytes_max == 0) {
    return bad("udp.receive_queue_bytes_max must be >= 1");
  }
  // TCP.
  if (tcp.connections_max == 0) {
    return bad("tcp.connections_max must be >= 1");
  }
  if (tcp.listeners_max == 0) {
    return bad("tcp.listeners_max must be >= 1");
  }
  if (tcp.backlog_max == 0) {
    return bad("tcp.backlog_max must be >= 1");
  }
  if (tcp.send_buffer_bytes == 0 || tcp.send_buffer_bytes > (std::size_t{1} << 30)) {
    return bad("tcp.send_buffer_bytes must be in 1..2^30");
  }
  // RFC 7323 2.3: with scaling the window reaches 2^30; keep the buffer within that.
  if (tcp.receive_buffer_bytes == 0 || tcp.receive_buffer_bytes > (std::size_t{1} << 30)) {
    return bad("tcp.receive_buffer_bytes must be in 1..2^30");
  }
  if (tcp.out_of_order_ranges_max == 0) {
    return bad("tcp.out_of_order_ranges_max must be >= 1");
  }
  if (tcp.mss_default < 64) {
    return bad("tcp.mss_default must be >= 64");
  }
  if (tcp.msl <= Duration::zero()) {
    return bad("tcp.msl must be > 0");
  }
  if (tcp.rto.min_rto <= Duration::zero() || tcp.rto.max_rto < tcp.rto.min_rto ||
      tcp.rto.initial_rto < tcp.rto.min_rto || tcp.rto.initial_rto > tcp.rto.max_rto) {
    return bad("tcp.rto must have 0 < min_rto <= initial_rto <= max_rto");
  }
  if (tcp.retransmissions_max == 0) {
    return bad("tcp.retransmissions_max must be >= 1");
  }
  if (tcp.syn_retransmissions_max == 0) {
    return bad("tcp.syn_retransmissions_max must be >= 1");
  }
  // RFC 1122 4.2.3.2: the delay MUST be less than 0.5 seconds (the issue asks at most 200 ms).
  if (tcp.delayed_ack < Duration::zero() || tcp.delayed_ack > Duration::milliseconds(200)) {
    return bad("tcp.delayed_ack must be in 0..200 ms");
  }
  if (tcp.initial_window_segments == 0) {
    return bad("tcp.initial_window_segments must be >= 1");
  }
  if (tcp.keepalive_idle <= Duration::zero() || tcp.keepalive_interval <= Duration::zero()) {
    return bad("tcp.keepalive_idle and tcp.keepalive_interval must be > 0");
  }
  if (tcp.keepalive_probes == 0) {
    return bad("tcp.keepalive_probes must be >= 1");
  }
  if (tcp.persist_max < tcp.rto.min_rto) {
    return bad("tcp.persist_max must be >= tcp.rto.min_rto");
  }
  return Unit{};
}

}  // namespace tapstack
