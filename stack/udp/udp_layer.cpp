// UDP (RFC 768, RFC 1122 4.1): input with checksum validation, demultiplexing
// by destination port to bounded socket receive queues, port unreachable for
// closed ports, and the socket API (bind, close, send_to, receive).

#include <algorithm>

#include "stack/stack.hpp"
#include "stack/wire/udp.hpp"

namespace tapstack {

void Stack::udp_input(const Inbound& datagram, Instant now) {
  counters_.udp.rx_datagrams++;
  auto view = wire::UdpView::parse(datagram.payload);
  if (!view.ok()) {
    if (view.error() == wire::Error::BadLength) {
      counters_.udp.rx_bad_length++;
    } else {
      counters_.udp.rx_truncated++;
    }
    return;
  }
  // RFC 1122 4.1.3.4: a checksum present MUST be verified and a failing datagram silently
  // discarded. (A zero field means the sender computed none: RFC 768.)
  auto parsed = wire::UdpRepr::parse(*view, datagram.header.source, datagram.header.destination,
                                     wire::ChecksumCheck::Verify);
  if (!parsed.ok()) {
    counters_.udp.rx_bad_checksum++;
    return;
  }
  const auto bound = ports_.find(parsed->destination_port);
  if (bound == ports_.end()) {
    // RFC 1122 4.1.3.1: port unreachable for a datagram to a port with no listener (never for
    // a broadcast: the ICMP policy checks that).
    counters_.udp.rx_no_port++;
    send_icmp_error(IcmpError::PortUnreachable, datagram.header, datagram.header_bytes, datagram.payload,
                    datagram.link_group, now);
    return;
  }
  UdpSocket& socket = sockets_.at(bound->second);
  const Bytes payload = view->payload();
  if (socket.queue.size() >= config_.udp.receive_queue_datagrams_max) {
    counters_.udp.rx_queue_full++;
    return;
  }
  if (socket.queued_bytes + payload.size() > config_.udp.receive_queue_bytes_max) {
    counters_.udp.rx_queue_bytes_full++;
    return;
  }
  socket.queue.push_back(Datagram{datagram.header.source, parsed->source_port,
                                  ByteVector(payload.begin(), payload.end()), datagram.header.destination});
  socket.queued_bytes += payload.size();
  counters_.udp.rx_delivered++;
}

// RFC 6056 3.3.1 "Algorithm 1: Simple Port Randomization": a random start in the dynamic
// range, then the next free port. Bounded by the size of the range.
std::optional<std::uint16_t> Stack::pick_ephemeral_port() {
  constexpr std::uint32_t count = std::uint32_t{kEphemeralPortLast} - kEphemeralPortFirst + 1;
  std::uint32_t offset = static_cast<std::uint32_t>(rng_.below(count));
  for (std::uint32_t tried = 0; tried < count; ++tried) {
    const auto port = static_cast<std::uint16_t>(kEphemeralPortFirst + offset);
    if (!ports_.contains(port)) {
      return port;
    }
    offset = (offset + 1) % count;
  }
  return std::nullopt;
}

Stack::UdpSocket* Stack::find_socket(UdpSocketId id) {
  auto it = sockets_.find(id);
  return it == sockets_.end() ? nullptr : &it->second;
}

const Stack::UdpSocket* Stack::find_socket(UdpSocketId id) const {
  auto it = sockets_.find(id);
  return it == sockets_.end() ? nullptr : &it->second;
}

Result<UdpSocketId, SocketError> Stack::udp_bind(std::uint16_t port) {
  if (sockets_.size() >= config_.udp.sockets_max) {
    return fail(SocketError::TooManySockets);
  }
  if (port == 0) {
    const std::optional<std::uint16_t> picked = pick_ephemeral_port();
    if (!picked.has_value()) {
      return fail(SocketError::TooManySockets);
    }
    port = *picked;
  } else if (ports_.contains(port)) {
    return fail(SocketError::AddressInUse);
  }
  // Ids are never reused, so a stale id cannot reach another socket.
  const UdpSocketId id = next_socket_id_++;
  sockets_.emplace(id, UdpSocket{port, {}, 0});
  ports_.emplace(port, id);
  return id;
}

Result<Unit, SocketError> Stack::udp_close(UdpSocketId id) {
  auto it = sockets_.find(id);
  if (it == sockets_.end()) {
    return fail(SocketError::BadSocket);
  }
  ports_.erase(it->second.port);
  sockets_.erase(it);
  return Unit{};
}

Result<std::uint16_t, SocketError> Stack::udp_local_port(UdpSocketId id) const {
  const UdpSocket* socket = find_socket(id);
  if (socket == nullptr) {
    return fail(SocketError::BadSocket);
  }
  return socket->port;
}

Result<Unit, SocketError> Stack::udp_send_to(UdpSocketId id, wire::Ipv4Address destination, std::uint16_t port,
                                             Bytes payload) {
  const UdpSocket* socket = find_socket(id);
  if (socket == nullptr) {
    return fail(SocketError::BadSocket);
  }
  if (payload.size() > kUdpPayloadMax) {
    return fail(SocketError::MessageTooLong);
  }
  if (destination.is_unspecified() || port == 0) {
    return fail(SocketError::InvalidArgument);
  }
  const std::size_t len = wire::UdpView::kHeaderLen + payload.size();
  if (!tx_queue_.empty() && tx_queue_.size() + fragments_needed(len) > config_.tx_queue_frames_max) {
    return fail(SocketError::WouldBlock);
  }
  const wire::UdpRepr udp{socket->port, port, payload.size(), true};
  ByteVector out(udp.buffer_len());
  std::copy(payload.begin(), payload.end(), out.begin() + static_cast<std::ptrdiff_t>(wire::UdpView::kHeaderLen));
  udp.emit(out, config_.interface.address, destination);
  auto sent = send_ipv4(wire::IpProtocol::Udp, destination, as_bytes(out));
  if (sent.ok()) {
    counters_.udp.tx_datagrams++;
  }
  return sent;
}

std::optional<Datagram> Stack::udp_receive(UdpSocketId id) {
  UdpSocket* socket = find_socket(id);
  if (socket == nullptr || socket->queue.empty()) {
    return std::nullopt;
  }
  Datagram datagram = std::move(socket->queue.front());
  socket->queue.pop_front();
  socket->queued_bytes -= datagram.payload.size();
  return datagram;
}

std::size_t Stack::udp_pending(UdpSocketId id) const {
  const UdpSocket* socket = find_socket(id);
  return socket == nullptr ? 0 : socket->queue.size();
}

}  // namespace tapstack
