// ICMP in the host (RFC 792, RFC 1122 3.2.2): echo replies, echo requests of
// our own, and the errors we generate (protocol and port unreachable,
// reassembly time exceeded) behind the RFC 1122 3.2.2 policy and a token
// bucket. Received errors are counted; there is no transport to tell yet.

#include <algorithm>
#include <variant>

#include "stack/ip/icmp_policy.hpp"
#include "stack/stack.hpp"
#include "stack/wire/icmp.hpp"

namespace tapstack {

void Stack::icmp_input(const Inbound& datagram, Instant now) {
  (void)now;
  counters_.icmp.rx_messages++;
  auto view = wire::IcmpView::parse(datagram.payload);
  if (!view.ok()) {
    counters_.icmp.rx_truncated++;
    return;
  }
  // RFC 1122 3.2.2: the checksum is verified like every other; a bad one is silently dropped.
  auto parsed = wire::IcmpRepr::parse(*view, wire::ChecksumCheck::Verify);
  if (!parsed.ok()) {
    counters_.icmp.rx_bad_checksum++;
    return;
  }
  const wire::IcmpMessage& message = parsed->message;
  if (const auto* request = std::get_if<wire::IcmpEchoRequest>(&message)) {
    counters_.icmp.rx_echo_requests++;
    // RFC 1122 3.2.2.6: an echo request to a broadcast address MAY be silently discarded
    // (Linux's icmp_echo_ignore_broadcasts default does the same: no smurf amplifier).
    if (datagram.to_broadcast) {
      counters_.icmp.rx_echo_broadcast_ignored++;
      return;
    }
    // RFC 792 / RFC 1122 3.2.2.6: same identifier, sequence and data; the source of the reply is
    // the request's destination (ours: broadcasts were handled above).
    const wire::IcmpRepr reply{wire::IcmpEchoReply{request->identifier, request->sequence, request->data}};
    ByteVector out(reply.buffer_len());
    reply.emit(out);
    if (send_ipv4(wire::IpProtocol::Icmp, datagram.header.source, as_bytes(out)).ok()) {
      counters_.icmp.tx_echo_replies++;
    }
    return;
  }
  if (const auto* reply = std::get_if<wire::IcmpEchoReply>(&message)) {
    counters_.icmp.rx_echo_replies++;
    if (echo_replies_.size() >= config_.icmp.echo_replies_queued_max ||
        echo_reply_bytes_ + reply->data.size() > config_.icmp.echo_reply_bytes_max) {
      counters_.icmp.rx_echo_reply_queue_full++;
      return;
    }
    echo_replies_.push_back(EchoReplyInfo{datagram.header.source, reply->identifier, reply->sequence,
                                          ByteVector(reply->data.begin(), reply->data.end())});
    echo_reply_bytes_ += reply->data.size();
    return;
  }
  if (std::holds_alternative<wire::IcmpDestinationUnreachable>(message)) {
    counters_.icmp.rx_dest_unreachable++;
    return;
  }
  if (std::holds_alternative<wire::IcmpTimeExceeded>(message)) {
    counters_.icmp.rx_time_exceeded++;
    return;
  }
  // RFC 1122 3.2.2: "If an ICMP message of unknown type is received, it MUST be silently
  // discarded." Redirects, timestamps, etc. are not implemented either.
  counters_.icmp.rx_other++;
}

void Stack::send_icmp_error(IcmpError kind, const wire::Ipv4Repr& offending, Bytes header_bytes, Bytes payload,
                            bool link_group, Instant now) {
  // RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast (IP or link layer), a
  // non-unicast source, or a fragment other than the first.
  if (ip::icmp_error_verdict(offending, payload, config_.interface.subnet_broadcast(), link_group) !=
      ip::IcmpErrorVerdict::Allowed) {
    counters_.icmp.errors_suppressed++;
    return;
  }
  if (!icmp_errors_.allow(now)) {
    counters_.icmp.errors_rate_limited++;
    return;
  }
  // RFC 792: the internet header plus at least 64 bits of the datagram's data; RFC 1812 4.3.2.3
  // (followed by common hosts): as much as fits in a 576-byte error datagram.
  const std::size_t room = kIcmpErrorDatagramMax - wire::Ipv4View::kMinHeaderLen - wire::IcmpView::kHeaderLen;
  const std::size_t quoted_payload = std::min(payload.size(), room - std::min(room, header_bytes.size()));
  ByteVector quote(header_bytes.begin(), header_bytes.end());
  quote.insert(quote.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(quoted_payload));

  wire::IcmpRepr error;
  switch (kind) {
    case IcmpError::ProtocolUnreachable:
      error.message = wire::IcmpDestinationUnreachable{wire::IcmpUnreachableCode::ProtocolUnreachable, 0, 0,
                                                       as_bytes(quote)};
      break;
    case IcmpError::PortUnreachable:
      error.message =
          wire::IcmpDestinationUnreachable{wire::IcmpUnreachableCode::PortUnreachable, 0, 0, as_bytes(quote)};
      break;
    case IcmpError::ReassemblyTimeExceeded:
      error.message =
          wire::IcmpTimeExceeded{wire::IcmpTimeExceededCode::ReassemblyTimeExceeded, 0, as_bytes(quote)};
      break;
  }
  ByteVector out(error.buffer_len());
  error.emit(out);
  if (!send_ipv4(wire::IpProtocol::Icmp, offending.source, as_bytes(out)).ok()) {
    return;
  }
  switch (kind) {
    case IcmpError::ProtocolUnreachable: counters_.icmp.tx_protocol_unreachable++; break;
    case IcmpError::PortUnreachable: counters_.icmp.tx_port_unreachable++; break;
    case IcmpError::ReassemblyTimeExceeded: counters_.icmp.tx_reassembly_time_exceeded++; break;
  }
}

Result<Unit, SocketError> Stack::send_echo_request(wire::Ipv4Address destination, std::uint16_t id,
                                                   std::uint16_t seq, Bytes data) {
  if (data.size() > kEchoDataMax) {
    return fail(SocketError::MessageTooLong);
  }
  if (destination.is_unspecified()) {
    return fail(SocketError::InvalidArgument);
  }
  if (!tx_queue_.empty() && tx_queue_.size() + fragments_needed(wire::IcmpView::kHeaderLen + data.size()) >
                                config_.tx_queue_frames_max) {
    return fail(SocketError::WouldBlock);
  }
  const wire::IcmpRepr request{wire::IcmpEchoRequest{id, seq, data}};
  ByteVector out(request.buffer_len());
  request.emit(out);
  auto sent = send_ipv4(wire::IpProtocol::Icmp, destination, as_bytes(out));
  if (sent.ok()) {
    counters_.icmp.tx_echo_requests++;
  }
  return sent;
}

std::optional<EchoReplyInfo> Stack::take_echo_reply() {
  if (echo_replies_.empty()) {
    return std::nullopt;
  }
  EchoReplyInfo reply = std::move(echo_replies_.front());
  echo_replies_.pop_front();
  echo_reply_bytes_ -= reply.data.size();
  return reply;
}

}  // namespace tapstack
