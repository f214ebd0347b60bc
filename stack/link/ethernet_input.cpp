// Ethernet dispatch and ARP packet handling of the host (RFC 826, RFC 1122
// 2.3.2, RFC 5227). The cache itself (entries, pending queues, retries) is
// link::ArpCache; this file turns ARP packets into cache updates and replies.

#include <algorithm>
#include <array>

#include "stack/stack.hpp"
#include "stack/wire/arp.hpp"

namespace tapstack {

bool Stack::accepts_destination(wire::MacAddress mac) const {
  if (mac == config_.interface.mac || mac.is_broadcast()) {
    return true;
  }
  const auto& groups = config_.interface.multicast_macs;
  return mac.is_multicast() && std::find(groups.begin(), groups.end(), mac) != groups.end();
}

void Stack::receive(Bytes frame, Instant now) {
  advance(now);
  counters_.eth.rx_frames++;
  counters_.eth.rx_bytes += frame.size();
  // A device that refused frames may take them now; keep their order ahead of any reply.
  flush_tx_queue();

  auto view = wire::EthernetView::parse(frame);
  if (!view.ok()) {
    counters_.eth.rx_malformed++;
    return;
  }
  const wire::MacAddress destination = view->destination();
  if (!accepts_destination(destination)) {
    if (destination.is_multicast()) {
      counters_.eth.rx_multicast_not_joined++;
    } else {
      counters_.eth.rx_not_for_us++;
    }
    return;
  }
  if (view->source() == config_.interface.mac) {
    counters_.eth.rx_own_source++;
    return;
  }
  if (view->vlan_tci().has_value()) {
    counters_.eth.rx_vlan_tagged++;
    return;
  }
  switch (view->ethertype()) {
    case wire::EtherType::Arp:
      arp_input(*view, now_);
      return;
    case wire::EtherType::Ipv4:
      ipv4_input(view->payload(), destination.is_multicast(), now_);
      return;
    default:
      counters_.eth.rx_unknown_ethertype++;
      return;
  }
}

// RFC 826 "Packet Reception", with the sender checks RFC 1122 2.3.2 and RFC 5227 imply.
void Stack::arp_input(const wire::EthernetView& frame, Instant now) {
  counters_.arp.rx_packets++;
  auto view = wire::ArpView::parse(frame.payload());
  if (!view.ok()) {
    if (view.error() == wire::Error::Unsupported) {
      counters_.arp.rx_unsupported++;
    } else {
      counters_.arp.rx_truncated++;
    }
    return;
  }
  const wire::ArpRepr arp = wire::ArpRepr::parse(*view);
  // Only request and reply carry the RFC 826 semantics below (RARP, InARP... do not).
  if (arp.operation == wire::ArpOperation::Request) {
    arp_.counters().requests_received++;
  } else if (arp.operation == wire::ArpOperation::Reply) {
    arp_.counters().replies_received++;
  } else {
    counters_.arp.rx_unknown_operation++;
    return;
  }
  if (arp.sender_mac == config_.interface.mac) {
    // Our own announcement looped back, or someone using our MAC: learn nothing from it.
    counters_.arp.rx_own_echo++;
    return;
  }
  if (!arp.sender_mac.is_unicast() || arp.sender_mac == wire::MacAddress{}) {
    counters_.arp.rx_bad_sender++;
    return;
  }

  const bool for_us = arp.target_ip == config_.interface.address;
  // RFC 5227 2.1.1: a probe has sender IP 0.0.0.0; it must not enter any cache, but a
  // probe for our address is still answered like any request (that is how the prober
  // learns the address is taken).
  if (!arp.sender_ip.is_unspecified()) {
    // RFC 826: "merge_flag" update of an existing entry always; a new entry only when we
    // are the target. The cache never stores our own address (counted as a conflict).
    std::vector<ByteVector> released;
    arp_.learn(arp.sender_ip, arp.sender_mac, now, for_us, released);
    for (const ByteVector& datagram : released) {
      link_send(arp.sender_mac, wire::EtherType::Ipv4, as_bytes(datagram));
    }
  }
  if (!for_us) {
    counters_.arp.rx_other_target++;
    return;
  }
  if (arp.operation == wire::ArpOperation::Request) {
    // RFC 826: swap the sender and target fields, put ours as sender, set the opcode to reply
    // and send it to the requester's hardware address.
    send_arp(wire::ArpOperation::Reply, arp.sender_mac, arp.sender_mac, arp.sender_ip);
    arp_.counters().replies_sent++;
  }
}

void Stack::send_arp(wire::ArpOperation operation, wire::MacAddress ethernet_destination,
                     wire::MacAddress target_mac, wire::Ipv4Address target_ip) {
  const wire::ArpRepr arp{operation, config_.interface.mac, config_.interface.address, target_mac, target_ip};
  std::array<std::byte, wire::ArpRepr::buffer_len()> packet{};
  arp.emit(packet);
  link_send(ethernet_destination, wire::EtherType::Arp, packet);
}

void Stack::send_arp_request(wire::Ipv4Address ip) {
  // RFC 826: target hardware address unknown (zero), broadcast on the link.
  send_arp(wire::ArpOperation::Request, wire::MacAddress::broadcast(), wire::MacAddress{}, ip);
  arp_.counters().requests_sent++;
}

void Stack::send_gratuitous_arp() {
  // RFC 5227 3 "ARP Announcement": a request with sender and target IP both ours and a zero
  // target hardware address, broadcast, so every neighbour that has an entry for us updates it.
  send_arp(wire::ArpOperation::Request, wire::MacAddress::broadcast(), wire::MacAddress{},
           config_.interface.address);
  arp_.counters().requests_sent++;
}

}  // namespace tapstack
