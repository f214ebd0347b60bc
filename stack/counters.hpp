#pragma once
// The IPv4 host's own drop and event counters, grouped by layer. Every drop
// the host makes is counted under exactly one reason here (or, for ARP queues
// and reassembly, in link::ArpCounters / ip::ReassemblyCounters). Stack::
// visit_counters() names each one with a stable dotted name, "<layer>.<field>"
// (the field name below), so scripts and golden files can rely on them.

#include <cstdint>
#include <string_view>

namespace tapstack {

// (Datagrams the ARP pending queues drop are counted there: arp.pending_dropped_*.)

// Ethernet dispatch (stack/link/ethernet_input.cpp) and the transmit path.
struct EthernetCounters {
  std::uint64_t rx_frames = 0;              // every frame passed to Stack::receive
  std::uint64_t rx_bytes = 0;
  std::uint64_t rx_malformed = 0;           // shorter than an Ethernet (or 802.1Q) header
  std::uint64_t rx_not_for_us = 0;          // unicast to another MAC
  std::uint64_t rx_multicast_not_joined = 0;  // a group address we did not join
  std::uint64_t rx_own_source = 0;          // our own MAC as source: a loop or a spoof
  std::uint64_t rx_vlan_tagged = 0;         // 802.1Q tagged: this interface is untagged
  std::uint64_t rx_unknown_ethertype = 0;   // neither IPv4 nor ARP (IPv6 included)
  std::uint64_t tx_frames = 0;              // frames the device took
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_deferred = 0;            // frames the device refused (full), kept in the tx queue
  std::uint64_t tx_queue_overflow = 0;      // dropped: tx queue at tx_queue_frames_max
  std::uint64_t tx_device_errors = 0;       // dropped: the device rejected the frame or failed

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_frames"}, rx_frames);
    f(std::string_view{"rx_bytes"}, rx_bytes);
    f(std::string_view{"rx_malformed"}, rx_malformed);
    f(std::string_view{"rx_not_for_us"}, rx_not_for_us);
    f(std::string_view{"rx_multicast_not_joined"}, rx_multicast_not_joined);
    f(std::string_view{"rx_own_source"}, rx_own_source);
    f(std::string_view{"rx_vlan_tagged"}, rx_vlan_tagged);
    f(std::string_view{"rx_unknown_ethertype"}, rx_unknown_ethertype);
    f(std::string_view{"tx_frames"}, tx_frames);
    f(std::string_view{"tx_bytes"}, tx_bytes);
    f(std::string_view{"tx_deferred"}, tx_deferred);
    f(std::string_view{"tx_queue_overflow"}, tx_queue_overflow);
    f(std::string_view{"tx_device_errors"}, tx_device_errors);
  }
};

// ARP packet handling in the host (the cache's own counters are link::ArpCounters,
// visited under the same "arp." prefix).
struct ArpInputCounters {
  std::uint64_t rx_packets = 0;             // ARP frames for us (after Ethernet dispatch)
  std::uint64_t rx_truncated = 0;           // shorter than 28 bytes
  std::uint64_t rx_unsupported = 0;         // not Ethernet/IPv4 (hrd, pro, hln, pln)
  std::uint64_t rx_bad_sender = 0;          // sender MAC not unicast or != the Ethernet source
  std::uint64_t rx_unknown_operation = 0;   // neither request nor reply (RARP, InARP, ...)
  std::uint64_t rx_other_target = 0;        // target is not our address (merged, not answered)
  std::uint64_t rx_own_echo = 0;            // our own packet looped back

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_packets"}, rx_packets);
    f(std::string_view{"rx_truncated"}, rx_truncated);
    f(std::string_view{"rx_unsupported"}, rx_unsupported);
    f(std::string_view{"rx_bad_sender"}, rx_bad_sender);
    f(std::string_view{"rx_unknown_operation"}, rx_unknown_operation);
    f(std::string_view{"rx_other_target"}, rx_other_target);
    f(std::string_view{"rx_own_echo"}, rx_own_echo);
  }
};

// IPv4 input and output (stack/ip/ipv4_input.cpp, ipv4_output.cpp).
struct Ipv4Counters {
  std::uint64_t rx_packets = 0;             // IPv4 frames for us (after Ethernet dispatch)
  std::uint64_t rx_truncated = 0;           // < 20 bytes
  std::uint64_t rx_bad_version = 0;
  std::uint64_t rx_bad_header_length = 0;   // IHL < 5 or past the frame
  std::uint64_t rx_bad_total_length = 0;    // total length < IHL or > the frame
  std::uint64_t rx_bad_fragment = 0;        // offset + length beyond 65535
  std::uint64_t rx_bad_checksum = 0;
  std::uint64_t rx_ttl_zero = 0;
  std::uint64_t rx_bad_source = 0;          // RFC 1122 3.2.1.3: broadcast, multicast, loopback, 0, ours
  std::uint64_t rx_not_for_us = 0;          // destination neither ours nor a broadcast we accept
  std::uint64_t rx_unicast_in_link_broadcast = 0;  // RFC 1122 3.3.6
  std::uint64_t rx_with_options = 0;        // accepted, options skipped (not a drop)
  std::uint64_t rx_fragments = 0;           // handed to the reassembler
  std::uint64_t rx_unknown_protocol = 0;    // protocol unreachable (if allowed)
  std::uint64_t rx_delivered = 0;           // whole datagrams handed to ICMP or UDP
  std::uint64_t tx_packets = 0;             // datagrams sent (before fragmentation)
  std::uint64_t tx_fragments = 0;           // fragments created by fragmentation
  std::uint64_t tx_no_route = 0;            // dropped: no on-link prefix and no gateway
  std::uint64_t tx_fragmentation_failed = 0;  // dropped: DF set and larger than the MTU

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_packets"}, rx_packets);
    f(std::string_view{"rx_truncated"}, rx_truncated);
    f(std::string_view{"rx_bad_version"}, rx_bad_version);
    f(std::string_view{"rx_bad_header_length"}, rx_bad_header_length);
    f(std::string_view{"rx_bad_total_length"}, rx_bad_total_length);
    f(std::string_view{"rx_bad_fragment"}, rx_bad_fragment);
    f(std::string_view{"rx_bad_checksum"}, rx_bad_checksum);
    f(std::string_view{"rx_ttl_zero"}, rx_ttl_zero);
    f(std::string_view{"rx_bad_source"}, rx_bad_source);
    f(std::string_view{"rx_not_for_us"}, rx_not_for_us);
    f(std::string_view{"rx_unicast_in_link_broadcast"}, rx_unicast_in_link_broadcast);
    f(std::string_view{"rx_with_options"}, rx_with_options);
    f(std::string_view{"rx_fragments"}, rx_fragments);
    f(std::string_view{"rx_unknown_protocol"}, rx_unknown_protocol);
    f(std::string_view{"rx_delivered"}, rx_delivered);
    f(std::string_view{"tx_packets"}, tx_packets);
    f(std::string_view{"tx_fragments"}, tx_fragments);
    f(std::string_view{"tx_no_route"}, tx_no_route);
    f(std::string_view{"tx_fragmentation_failed"}, tx_fragmentation_failed);
  }
};

// ICMP (stack/ip/icmp_handling.cpp).
struct IcmpCounters {
  std::uint64_t rx_messages = 0;
  std::uint64_t rx_truncated = 0;           // < 8 bytes
  std::uint64_t rx_bad_checksum = 0;
  std::uint64_t rx_echo_requests = 0;
  std::uint64_t rx_echo_broadcast_ignored = 0;  // RFC 1122 3.2.2.6: MAY be discarded; we do
  std::uint64_t rx_echo_replies = 0;
  std::uint64_t rx_echo_reply_queue_full = 0;  // dropped: take_echo_reply() queue at its limit
  std::uint64_t rx_dest_unreachable = 0;
  std::uint64_t rx_time_exceeded = 0;
  std::uint64_t rx_other = 0;               // other types: ignored (RFC 1122 3.2.2)
  std::uint64_t tx_echo_requests = 0;
  std::uint64_t tx_echo_replies = 0;
  std::uint64_t tx_protocol_unreachable = 0;
  std::uint64_t tx_port_unreachable = 0;
  std::uint64_t tx_reassembly_time_exceeded = 0;
  std::uint64_t errors_suppressed = 0;      // RFC 1122 3.2.2: not about errors, broadcasts, fragments...
  std::uint64_t errors_rate_limited = 0;    // IcmpLimits token bucket empty

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_messages"}, rx_messages);
    f(std::string_view{"rx_truncated"}, rx_truncated);
    f(std::string_view{"rx_bad_checksum"}, rx_bad_checksum);
    f(std::string_view{"rx_echo_requests"}, rx_echo_requests);
    f(std::string_view{"rx_echo_broadcast_ignored"}, rx_echo_broadcast_ignored);
    f(std::string_view{"rx_echo_replies"}, rx_echo_replies);
    f(std::string_view{"rx_echo_reply_queue_full"}, rx_echo_reply_queue_full);
    f(std::string_view{"rx_dest_unreachable"}, rx_dest_unreachable);
    f(std::string_view{"rx_time_exceeded"}, rx_time_exceeded);
    f(std::string_view{"rx_other"}, rx_other);
    f(std::string_view{"tx_echo_requests"}, tx_echo_requests);
    f(std::string_view{"tx_echo_replies"}, tx_echo_replies);
    f(std::string_view{"tx_protocol_unreachable"}, tx_protocol_unreachable);
    f(std::string_view{"tx_port_unreachable"}, tx_port_unreachable);
    f(std::string_view{"tx_reassembly_time_exceeded"}, tx_reassembly_time_exceeded);
    f(std::string_view{"errors_suppressed"}, errors_suppressed);
    f(std::string_view{"errors_rate_limited"}, errors_rate_limited);
  }
};

// UDP (stack/udp/udp_layer.cpp).
struct UdpCounters {
  std::uint64_t rx_datagrams = 0;
  std::uint64_t rx_truncated = 0;           // < 8 bytes
  std::uint64_t rx_bad_length = 0;          // length field < 8 or past the IP payload
  std::uint64_t rx_bad_checksum = 0;
  std::uint64_t rx_no_port = 0;             // no socket bound: port unreachable (if allowed)
  std::uint64_t rx_queue_full = 0;          // dropped: receive_queue_datagrams_max
  std::uint64_t rx_queue_bytes_full = 0;    // dropped: receive_queue_bytes_max
  std::uint64_t rx_delivered = 0;           // queued on a socket
  std::uint64_t tx_datagrams = 0;

  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"rx_datagrams"}, rx_datagrams);
    f(std::string_view{"rx_truncated"}, rx_truncated);
    f(std::string_view{"rx_bad_length"}, rx_bad_length);
    f(std::string_view{"rx_bad_checksum"}, rx_bad_checksum);
    f(std::string_view{"rx_no_port"}, rx_no_port);
    f(std::string_view{"rx_queue_full"}, rx_queue_full);
    f(std::string_view{"rx_queue_bytes_full"}, rx_queue_bytes_full);
    f(std::string_view{"rx_delivered"}, rx_delivered);
    f(std::string_view{"tx_datagrams"}, tx_datagrams);
  }
};

struct StackCounters {
  EthernetCounters eth;
  ArpInputCounters arp;
  Ipv4Counters ip;
  IcmpCounters icmp;
  UdpCounters udp;
};

}  // namespace tapstack
