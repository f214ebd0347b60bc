// IPv4 input (RFC 791 3.2, RFC 1122 3.2.1 and 3.3): header validation,
// destination filtering, reassembly, and demultiplexing to ICMP and UDP.
// Options are skipped (RFC 1122 3.2.1.8 lets a host ignore the ones it does
// not implement; we implement none).

#include <algorithm>
#include <array>

#include "stack/stack.hpp"

namespace tapstack {

namespace {

// RFC 1122 3.2.1.3: a source that can never be a single host's.
bool invalid_source(wire::Ipv4Address source, const InterfaceConfig& interface) {
  return source.is_unspecified() || source.is_broadcast() || source.is_multicast() || source.is_loopback() ||
         // (d) the directed broadcast of our own subnet
         (interface.prefix_len < 31 && source == interface.subnet_broadcast()) ||
         // Our own address from the wire: a loop or a spoof (Linux drops these as martians too).
         source == interface.address;
}

}  // namespace

void Stack::ipv4_input(Bytes packet, bool link_group, Instant now) {
  counters_.ip.rx_packets++;
  auto view = wire::Ipv4View::parse(packet);
  if (!view.ok()) {
    switch (view.error()) {
      case wire::Error::BadVersion: counters_.ip.rx_bad_version++; break;
      case wire::Error::BadHeaderLength: counters_.ip.rx_bad_header_length++; break;
      case wire::Error::BadTotalLength: counters_.ip.rx_bad_total_length++; break;
      case wire::Error::BadFragment: counters_.ip.rx_bad_fragment++; break;
      default: counters_.ip.rx_truncated++; break;
    }
    return;
  }
  // RFC 1122 3.2.1.2: a host MUST verify the header checksum and silently discard on failure.
  auto parsed = wire::Ipv4Repr::parse(*view, wire::ChecksumCheck::Verify);
  if (!parsed.ok()) {
    counters_.ip.rx_bad_checksum++;
    return;
  }
  const wire::Ipv4Repr& header = *parsed;
  // RFC 791 3.2 "Time to Live": a datagram whose TTL reached zero must be destroyed.
  if (header.ttl == 0) {
    counters_.ip.rx_ttl_zero++;
    return;
  }
  // RFC 1122 3.2.1.3: "A host MUST silently discard an incoming datagram containing an IP source
  // address that is invalid by the rules of this section."
  if (invalid_source(header.source, config_.interface)) {
    counters_.ip.rx_bad_source++;
    return;
  }
  // RFC 1122 3.3.6: we accept our address, the limited broadcast and our subnet's directed
  // broadcast. We join no IP multicast group (no IGMP), so multicast is not for us.
  const bool to_broadcast =
      header.destination.is_broadcast() || header.destination == config_.interface.subnet_broadcast();
  if (header.destination != config_.interface.address && !to_broadcast) {
    counters_.ip.rx_not_for_us++;
    return;
  }
  // RFC 1122 3.3.6: "A host SHOULD silently discard a datagram that is received via a link-layer
  // broadcast but does not specify an IP multicast or broadcast destination address."
  if (link_group && !to_broadcast) {
    counters_.ip.rx_unicast_in_link_broadcast++;
    return;
  }
  if (!header.options.empty()) {
    counters_.ip.rx_with_options++;
  }

  if (header.more_fragments || header.fragment_offset != 0) {
    // RFC 791 3.2 "Fragmentation and Reassembly", RFC 815: the reassembler owns the buffering;
    // it returns the datagram once its last hole is filled.
    counters_.ip.rx_fragments++;
    std::optional<ip::ReassembledDatagram> whole = reassembler_.add(*view, now);
    if (!whole.has_value()) {
      return;
    }
    std::array<std::byte, wire::Ipv4View::kMaxHeaderLen> header_bytes{};
    whole->header.emit(header_bytes);
    deliver(Inbound{whole->header, Bytes{header_bytes.data(), whole->header.header_len()}, as_bytes(whole->payload),
                    to_broadcast, link_group},
            now);
    return;
  }
  deliver(Inbound{header, view->header(), view->payload(), to_broadcast, link_group}, now);
}

void Stack::deliver(const Inbound& datagram, Instant now) {
  switch (datagram.header.protocol) {
    case wire::IpProtocol::Icmp:
      counters_.ip.rx_delivered++;
      icmp_input(datagram, now);
      return;
    case wire::IpProtocol::Udp:
      counters_.ip.rx_delivered++;
      udp_input(datagram, now);
      return;
    case wire::IpProtocol::Tcp:
      counters_.ip.rx_delivered++;
      tcp_input(datagram, now);
      return;
    default:
      // RFC 1122 3.2.2.1: a host SHOULD generate protocol unreachable for a transport it lacks.
      counters_.ip.rx_unknown_protocol++;
      send_icmp_error(IcmpError::ProtocolUnreachable, datagram.header, datagram.header_bytes, datagram.payload,
                      datagram.link_group, now);
      return;
  }
}

void Stack::reassembly_expired(const ip::ExpiredDatagram& expired, Instant now) {
  // RFC 1122 3.3.2 / RFC 792: time exceeded code 1, and only when fragment zero arrived (it is
  // what the error quotes, and it carries the transport ports).
  if (!expired.had_first_fragment) {
    return;
  }
  const Bytes first = as_bytes(expired.first_bytes);
  const std::size_t header_len = std::min(expired.first_header.header_len(), first.size());
  send_icmp_error(IcmpError::ReassemblyTimeExceeded, expired.first_header, first.first(header_len),
                  first.subspan(header_len), false, now);
}

}  // namespace tapstack
