// IPv4 output (RFC 791, RFC 1122 3.3.1): routing with one on-link prefix and
// a default gateway, fragmentation to the interface MTU, next-hop resolution
// through the ARP cache, and the Ethernet transmit path with its bounded
// queue of frames the device refused.

#include <algorithm>

#include "stack/ip/fragmentation.hpp"
#include "stack/stack.hpp"

namespace tapstack {

namespace {

// RFC 1112 6.4: an IP host group address maps to the Ethernet multicast address
// 01-00-5E-00-00-00 plus its low-order 23 bits.
wire::MacAddress multicast_mac(wire::Ipv4Address group) {
  return wire::MacAddress{{0x01, 0x00, 0x5e, static_cast<std::uint8_t>((group.value >> 16) & 0x7f),
                           static_cast<std::uint8_t>((group.value >> 8) & 0xff),
                           static_cast<std::uint8_t>(group.value & 0xff)}};
}

}  // namespace

// RFC 1122 3.3.1.1: a destination on our prefix is sent to directly; anything else goes to
// the default gateway. We have no loopback interface: our own address has no route.
std::optional<Stack::Route> Stack::route(wire::Ipv4Address destination) const {
  const InterfaceConfig& interface = config_.interface;
  if (destination.is_unspecified() || destination.is_loopback() || destination == interface.address) {
    return std::nullopt;
  }
  if (destination.is_broadcast() || destination == interface.subnet_broadcast()) {
    return Route{destination, wire::MacAddress::broadcast()};
  }
  if (destination.is_multicast()) {
    return Route{destination, multicast_mac(destination)};
  }
  if (interface.on_link(destination)) {
    return Route{destination, std::nullopt};
  }
  if (interface.gateway.has_value()) {
    return Route{*interface.gateway, std::nullopt};
  }
  return std::nullopt;
}

std::size_t Stack::fragments_needed(std::size_t payload_len) const {
  const std::size_t mtu = config_.interface.mtu;
  if (wire::Ipv4View::kMinHeaderLen + payload_len <= mtu) {
    return 1;
  }
  // RFC 791: every fragment but the last carries a multiple of 8 payload bytes.
  const std::size_t per_fragment = (mtu - wire::Ipv4View::kMinHeaderLen) & ~std::size_t{7};
  return (payload_len + per_fragment - 1) / per_fragment;
}

Result<Unit, SocketError> Stack::send_ipv4(wire::IpProtocol protocol, wire::Ipv4Address destination, Bytes payload) {
  if (payload.size() > wire::Ipv4View::kMaxTotalLen - wire::Ipv4View::kMinHeaderLen) {
    return fail(SocketError::MessageTooLong);
  }
  const std::optional<Route> next = route(destination);
  if (!next.has_value()) {
    counters_.ip.tx_no_route++;
    return fail(SocketError::NoRoute);
  }
  wire::Ipv4Repr header;
  header.identification = next_ip_id_++;
  header.ttl = config_.default_ttl;
  header.protocol = protocol;
  header.source = config_.interface.address;
  header.destination = destination;
  header.payload_len = static_cast<std::uint16_t>(payload.size());
  counters_.ip.tx_packets++;

  if (header.buffer_len() <= config_.interface.mtu) {
    ByteVector datagram(header.buffer_len());
    header.emit(datagram);
    std::copy(payload.begin(), payload.end(), datagram.begin() + static_cast<std::ptrdiff_t>(header.header_len()));
    output_datagram(*next, std::move(datagram));
    return Unit{};
  }
  // RFC 791 3.2 "Fragmentation": we never set DF on our own datagrams, so this always fits.
  const bool fitted = ip::fragment_datagram(
      header, payload, config_.interface.mtu, [this, &next](const wire::Ipv4Repr& fragment, Bytes slice) {
        ByteVector datagram(fragment.header_len() + slice.size());
        fragment.emit(datagram);
        std::copy(slice.begin(), slice.end(), datagram.begin() + static_cast<std::ptrdiff_t>(fragment.header_len()));
        counters_.ip.tx_fragments++;
        output_datagram(*next, std::move(datagram));
      });
  if (!fitted) {
    counters_.ip.tx_fragmentation_failed++;
    return fail(SocketError::MessageTooLong);
  }
  return Unit{};
}

void Stack::output_datagram(const Route& route, ByteVector datagram) {
  std::optional<wire::MacAddress> mac = route.mac;
  if (!mac.has_value()) {
    mac = arp_.lookup(route.next_hop, now_);
  }
  if (mac.has_value()) {
    link_send(*mac, wire::EtherType::Ipv4, as_bytes(datagram));
    return;
  }
  // RFC 1122 2.3.2.2: queue (a bounded number of) datagrams for an unresolved next hop; the
  // cache counts what it drops.
  if (arp_.enqueue(route.next_hop, std::move(datagram), now_) == link::ArpCache::EnqueueResult::SendRequestNow) {
    send_arp_request(route.next_hop);
  }
}

void Stack::link_send(wire::MacAddress destination, wire::EtherType type, Bytes payload) {
  const std::size_t len = std::max(wire::EthernetView::kHeaderLen + payload.size(), kEthernetFrameMin);
  ByteVector frame(len, std::byte{0});  // RFC 894: short frames padded with zeros
  const wire::EthernetRepr ethernet{destination, config_.interface.mac, type, std::nullopt};
  ethernet.emit(frame);
  std::copy(payload.begin(), payload.end(), frame.begin() + static_cast<std::ptrdiff_t>(wire::EthernetView::kHeaderLen));
  transmit_frame(std::move(frame));
}

void Stack::transmit_frame(ByteVector frame) {
  const bool older_frames_wait = !tx_queue_.empty();
  if (!older_frames_wait) {
    auto taken = device_.transmit(as_bytes(frame));
    if (!taken.ok()) {
      counters_.eth.tx_device_errors++;
      return;
    }
    if (*taken) {
      counters_.eth.tx_frames++;
      counters_.eth.tx_bytes += frame.size();
      return;
    }
  }
  // Refused (the device is full), or older frames wait and this one goes after them: keep
  // the order, within the bound.
  if (tx_queue_.size() >= config_.tx_queue_frames_max) {
    counters_.eth.tx_queue_overflow++;
    return;
  }
  counters_.eth.tx_deferred++;
  tx_queue_bytes_ += frame.size();
  tx_queue_.push_back(std::move(frame));
  if (older_frames_wait) {
    flush_tx_queue();
  }
}

void Stack::transmit_frame(Bytes frame) {
  if (tx_queue_.empty()) {
    auto taken = device_.transmit(frame);
    if (!taken.ok()) {
      counters_.eth.tx_device_errors++;
      return;
    }
    if (*taken) {
      counters_.eth.tx_frames++;
      counters_.eth.tx_bytes += frame.size();
      return;
    }
  }
  transmit_frame(ByteVector(frame.begin(), frame.end()));
}

void Stack::flush_tx_queue() {
  // Bounded by the queue length: every iteration removes a frame or stops.
  while (!tx_queue_.empty()) {
    ByteVector& frame = tx_queue_.front();
    auto taken = device_.transmit(as_bytes(frame));
    if (taken.ok() && !*taken) {
      return;
    }
    if (taken.ok()) {
      counters_.eth.tx_frames++;
      counters_.eth.tx_bytes += frame.size();
    } else {
      counters_.eth.tx_device_errors++;
    }
    tx_queue_bytes_ -= frame.size();
    tx_queue_.pop_front();
  }
}

}  // namespace tapstack
