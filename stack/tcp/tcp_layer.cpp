// The TCP layer of the Stack: segments in (checksum, options, demultiplexing
// to a connection or a listener, RFC 9293 3.10.7.1 resets for closed ports),
// segments out (one frame built in place: Ethernet, IPv4, TCP header, payload
// copied once from the send buffer, one checksum pass), and the timers of all
// connections.

#include <algorithm>

#include "stack/stack.hpp"

namespace tapstack {

namespace {

using wire::TcpFlags;

}  // namespace

tcp::TcpContext Stack::tcp_context() {
  // RFC 9293 3.7.1 / RFC 6691: the MSS we announce is the MTU less fixed IPv4 and TCP headers.
  const auto mss = static_cast<std::uint16_t>(std::min<std::size_t>(config_.interface.mtu - 40, 0xffff));
  return tcp::TcpContext{config_.tcp, tcp_output_, tcp_counters_, tcp_challenge_acks_, mss};
}

Stack::TcpEntry* Stack::tcp_entry(TcpSocketId id) {
  auto it = tcp_entries_.find(id);
  return it == tcp_entries_.end() ? nullptr : &it->second;
}

const Stack::TcpEntry* Stack::tcp_entry(TcpSocketId id) const {
  auto it = tcp_entries_.find(id);
  return it == tcp_entries_.end() ? nullptr : &it->second;
}

TcpSocketId Stack::tcp_create_connection(const tcp::FourTuple& tuple) {
  const TcpSocketId id = next_tcp_id_++;
  TcpEntry entry;
  // RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
  const tcp::SeqNum iss = tcp::initial_sequence_number(isn_key_, tuple.local_ip, tuple.local_port, tuple.remote_ip,
                                                       tuple.remote_port, now_);
  entry.connection = std::make_unique<tcp::Connection>(tcp_context(), tuple, iss);
  tcp_entries_.emplace(id, std::move(entry));
  tcp_demux_[tuple] = id;
  tcp_tcbs_++;
  return id;
}

void Stack::tcp_after(TcpSocketId id) {
  auto it = tcp_entries_.find(id);
  if (it == tcp_entries_.end() || !it->second.connection) {
    return;
  }
  TcpEntry& entry = it->second;
  tcp::Connection& connection = *entry.connection;
  const TcpState state = connection.state();
  TcpEntry* listener = entry.listener != 0 ? tcp_entry(entry.listener) : nullptr;
  // A passive connection past the handshake waits for tcp_accept (RFC 9293 3.10.1: the listener's
  // user learns of it then).
  if (listener != nullptr && !entry.queued_for_accept && state != TcpState::SynReceived &&
      state != TcpState::Listen && state != TcpState::Closed) {
    entry.queued_for_accept = true;
    listener->accept_queue.push_back(id);
    listener->listener_events |= tcp_event::Acceptable;
  }
  if (state != TcpState::Closed) {
    return;
  }
  auto demux = tcp_demux_.find(connection.tuple());
  if (demux != tcp_demux_.end() && demux->second == id) {
    tcp_demux_.erase(demux);
  }
  if (entry.user_holds) {
    return;  // the user still reads what is left and the error; tcp_close releases it
  }
  if (listener != nullptr) {
    listener->pending--;
    auto& queue = listener->accept_queue;
    queue.erase(std::remove(queue.begin(), queue.end(), id), queue.end());
  }
  tcp_entries_.erase(it);
  tcp_tcbs_--;
}

Instant Stack::tcp_poll() {
  Instant next = Instant::never();
  // Timers may close connections; collect first so erasing does not disturb the walk.
  std::vector<TcpSocketId>& due = tcp_due_;
  due.clear();
  for (auto& [id, entry] : tcp_entries_) {
    if (!entry.connection) {
      continue;
    }
    const Instant deadline = entry.connection->deadline();
    if (deadline <= now_) {
      due.push_back(id);
    } else {
      next = std::min(next, deadline);
    }
  }
  for (TcpSocketId id : due) {
    if (TcpEntry* entry = tcp_entry(id); entry != nullptr && entry->connection) {
      entry->connection->on_timer(now_);
      const Instant deadline = entry->connection->deadline();
      tcp_after(id);
      next = std::min(next, deadline);
    }
  }
  return next;
}

void Stack::tcp_input(const Inbound& datagram, Instant now) {
  tcp_counters_.rx_segments++;
  // RFC 1122 4.2.3.10: a SYN (any segment) to a broadcast or multicast address is not for TCP.
  if (datagram.to_broadcast || datagram.link_group) {
    tcp_counters_.rx_to_broadcast++;
    return;
  }
  const wire::Ipv4Address source = datagram.header.source;
  const wire::Ipv4Address destination = datagram.header.destination;
  auto view = wire::TcpView::parse(datagram.payload);
  if (!view.ok()) {
    tcp_counters_.rx_malformed++;
    return;
  }
  // RFC 9293 3.1 (MUST-2, MUST-3): verify the checksum over the pseudo header.
  if (!view->verify_checksum(source, destination)) {
    tcp_counters_.rx_bad_checksum++;
    return;
  }
  auto repr = wire::TcpRepr::parse(*view, source, destination, wire::ChecksumCheck::Skip);
  if (!repr.ok()) {
    tcp_counters_.rx_malformed++;
    return;
  }
  if (source.is_unspecified() || source.is_broadcast() || source.is_multicast() || repr->source_port == 0 ||
      repr->destination_port == 0) {
    tcp_counters_.rx_malformed++;
    return;
  }
  tcp::Segment segment;
  segment.seq = tcp::SeqNum{repr->seq_number};
  segment.ack = tcp::SeqNum{repr->ack_number};
  segment.flags = repr->flags;
  segment.window = repr->window;
  if (segment.flags.has(TcpFlags::Syn)) {
    segment.mss = repr->options.mss();
    segment.window_scale = repr->options.window_scale();
  }
  segment.payload = view->payload();
  const tcp::FourTuple tuple{destination, repr->destination_port, source, repr->source_port};

  const auto listener_it = tcp_listeners_.find(tuple.local_port);
  if (auto found = tcp_demux_.find(tuple); found != tcp_demux_.end()) {
    const TcpSocketId id = found->second;
    tcp::Connection& connection = *tcp_entries_.at(id).connection;
    // RFC 9293 3.10.7.4 (TIME-WAIT note) / RFC 6191: without timestamps, a new SYN may reopen the
    // tuple when its sequence number lies beyond the old connection's end.
    const bool new_syn = segment.flags.has(TcpFlags::Syn) && !segment.flags.any(TcpFlags::Ack | TcpFlags::Rst);
    if (connection.state() == TcpState::TimeWait && new_syn && listener_it != tcp_listeners_.end() &&
        tcp::gt(segment.seq, connection.rcv_nxt())) {
      tcp_counters_.time_wait_reused++;
      connection.end_time_wait();
      tcp_after(id);
    } else {
      connection.on_segment(segment, now);
      tcp_after(id);
      return;
    }
  }
  if (listener_it == tcp_listeners_.end()) {
    // RFC 9293 3.10.7.1: CLOSED. Everything but a RST is answered by a RST.
    tcp_counters_.rx_closed_port++;
    if (!segment.flags.has(TcpFlags::Rst)) {
      tcp_reply_rst(tuple, segment);
    }
    return;
  }
  // RFC 9293 3.10.7.2: LISTEN. RST: ignore. ACK: reset. SYN: a new connection. Else: drop.
  if (segment.flags.has(TcpFlags::Rst)) {
    tcp_counters_.rx_listen_dropped++;
    return;
  }
  if (segment.flags.has(TcpFlags::Ack)) {
    tcp_counters_.rx_listen_dropped++;
    tcp_reply_rst(tuple, segment);
    return;
  }
  if (!segment.flags.has(TcpFlags::Syn)) {
    tcp_counters_.rx_listen_dropped++;
    return;
  }
  const TcpSocketId listener_id = listener_it->second;
  TcpEntry& listener = tcp_entries_.at(listener_id);
  if (listener.pending >= listener.backlog) {
    tcp_counters_.listen_overflow++;
    return;
  }
  if (tcp_tcbs_ >= config_.tcp.connections_max) {
    tcp_counters_.connections_max_reached++;
    return;
  }
  const TcpSocketId id = tcp_create_connection(tuple);
  TcpEntry& entry = tcp_entries_.at(id);
  entry.listener = listener_id;
  listener.pending++;
  tcp_counters_.passive_opens++;
  entry.connection->open_passive();
  if (config_.tcp.keepalive) {
    entry.connection->set_keepalive(true, now);
  }
  entry.connection->on_segment(segment, now);
  tcp_after(id);
}

void Stack::tcp_reply_rst(const tcp::FourTuple& tuple, const tcp::Segment& segment) {
  // RFC 9293 3.10.7.1: if the ACK bit is off, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
  // if it is on, <SEQ=SEG.ACK><CTL=RST>.
  wire::TcpRepr header;
  header.source_port = tuple.local_port;
  header.destination_port = tuple.remote_port;
  if (segment.flags.has(TcpFlags::Ack)) {
    header.seq_number = segment.ack.raw();
    header.flags = TcpFlags::Rst;
  } else {
    header.seq_number = 0;
    header.ack_number = (segment.seq + segment.len()).raw();
    header.flags = TcpFlags::Rst | TcpFlags::Ack;
  }
  tcp_counters_.tx_rst++;
  tcp_counters_.tx_segments++;
  tcp_transmit(tuple, header, {}, {});
}

void Stack::tcp_transmit(const tcp::FourTuple& tuple, const wire::TcpRepr& header, Bytes first, Bytes second) {
  const std::size_t segment_len = header.header_len() + first.size() + second.size();
  wire::Ipv4Repr ip;
  ip.identification = next_ip_id_++;
  ip.ttl = config_.default_ttl;
  ip.protocol = wire::IpProtocol::Tcp;
  ip.source = tuple.local_ip;
  ip.destination = tuple.remote_ip;
  ip.payload_len = static_cast<std::uint16_t>(segment_len);
  const std::optional<Route> next = route(tuple.remote_ip);
  if (!next.has_value()) {
    counters_.ip.tx_no_route++;
    return;
  }
  counters_.ip.tx_packets++;
  std::optional<wire::MacAddress> mac = next->mac;
  if (!mac.has_value()) {
    mac = arp_.lookup(next->next_hop, now_);
  }
  const std::size_t datagram_len = ip.header_len() + segment_len;
  auto fill = [&](MutableBytes datagram) {
    ip.emit(datagram);
    MutableBytes segment = datagram.subspan(ip.header_len(), segment_len);
    std::copy(first.begin(), first.end(), segment.begin() + static_cast<std::ptrdiff_t>(header.header_len()));
    std::copy(second.begin(), second.end(),
              segment.begin() + static_cast<std::ptrdiff_t>(header.header_len() + first.size()));
    header.emit(segment, tuple.local_ip, tuple.remote_ip);
  };
  if (mac.has_value() && datagram_len <= config_.interface.mtu) {
    // The fast path: the frame is built once, in scratch memory, and handed to the device.
    const std::size_t frame_len = std::max(wire::EthernetView::kHeaderLen + datagram_len, kEthernetFrameMin);
    if (tcp_frame_.size() < frame_len) {
      tcp_frame_.resize(std::max(frame_len, wire::EthernetView::kHeaderLen + config_.interface.mtu));
    }
    MutableBytes frame{tcp_frame_.data(), frame_len};
    const wire::EthernetRepr ethernet{*mac, config_.interface.mac, wire::EtherType::Ipv4, std::nullopt};
    ethernet.emit(frame);
    MutableBytes datagram = frame.subspan(wire::EthernetView::kHeaderLen, datagram_len);
    fill(datagram);
    // RFC 894: pad short frames with zeros.
    std::fill(frame.begin() + static_cast<std::ptrdiff_t>(wire::EthernetView::kHeaderLen + datagram_len),
              frame.end(), std::byte{0});
    transmit_frame(Bytes{frame});
    return;
  }
  // Waiting for ARP (or larger than the MTU, which the MSS prevents): the datagram is queued.
  ByteVector datagram(datagram_len);
  fill(datagram);
  if (datagram_len <= config_.interface.mtu) {
    output_datagram(*next, std::move(datagram));
    return;
  }
  counters_.ip.tx_fragmentation_failed++;
}

std::optional<std::uint16_t> Stack::tcp_pick_ephemeral_port(wire::Ipv4Address remote, std::uint16_t remote_port) {
  // RFC 6056 3.3.1 (algorithm 1): a random start in the dynamic range, then the next free one.
  constexpr std::uint32_t kCount = kEphemeralPortLast - kEphemeralPortFirst + 1;
  const std::uint32_t start = static_cast<std::uint32_t>(rng_.below(kCount));
  for (std::uint32_t i = 0; i < kCount; ++i) {
    const auto port = static_cast<std::uint16_t>(kEphemeralPortFirst + (start + i) % kCount);
    const tcp::FourTuple tuple{config_.interface.address, port, remote, remote_port};
    if (!tcp_listeners_.contains(port) && !tcp_demux_.contains(tuple)) {
      return port;
    }
  }
  return std::nullopt;
}

}  // namespace tapstack
