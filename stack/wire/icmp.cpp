#include "stack/wire/icmp.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {

namespace {
namespace field {
constexpr std::size_t kType = 0;
constexpr std::size_t kCode = 1;
constexpr std::size_t kChecksum = 2;
constexpr std::size_t kRestOfHeader = 4;
constexpr std::size_t kEchoIdentifier = 4;
constexpr std::size_t kEchoSequence = 6;
constexpr std::size_t kUnused = 4;
constexpr std::size_t kNextHopMtu = 6;
constexpr std::size_t kData = 8;
}  // namespace field

// RFC 792 defines code 0 only for echo and echo reply.
constexpr std::uint8_t kEchoCode = 0;
// RFC 792: "64 bits of Data Datagram".
constexpr std::size_t kQuotedDataLen = 8;

bool same_bytes(Bytes a, Bytes b) { return std::ranges::equal(a, b); }

// Type, code, rest of header and data of any message, for emit().
struct RawMessage {
  std::uint8_t type;
  std::uint8_t code;
  std::uint32_t rest_of_header;
  Bytes data;
};

std::uint32_t join16(std::uint16_t high, std::uint16_t low) { return (std::uint32_t{high} << 16) | low; }

RawMessage raw(const IcmpMessage& message) {
  return std::visit(
      [](const auto& m) -> RawMessage {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, IcmpEchoRequest>) {
          return {static_cast<std::uint8_t>(IcmpType::EchoRequest), kEchoCode, join16(m.identifier, m.sequence),
                  m.data};
        } else if constexpr (std::is_same_v<M, IcmpEchoReply>) {
          return {static_cast<std::uint8_t>(IcmpType::EchoReply), kEchoCode, join16(m.identifier, m.sequence),
                  m.data};
        } else if constexpr (std::is_same_v<M, IcmpDestinationUnreachable>) {
          return {static_cast<std::uint8_t>(IcmpType::DestinationUnreachable), static_cast<std::uint8_t>(m.code),
                  join16(m.unused, m.next_hop_mtu), m.quoted};
        } else if constexpr (std::is_same_v<M, IcmpTimeExceeded>) {
          return {static_cast<std::uint8_t>(IcmpType::TimeExceeded), static_cast<std::uint8_t>(m.code), m.unused,
                  m.quoted};
        } else {
          static_assert(std::is_same_v<M, IcmpOther>);
          return {static_cast<std::uint8_t>(m.type), m.code, m.rest_of_header, m.data};
        }
      },
      message);
}

}  // namespace

bool IcmpEchoRequest::operator==(const IcmpEchoRequest& o) const {
  return identifier == o.identifier && sequence == o.sequence && same_bytes(data, o.data);
}
bool IcmpEchoReply::operator==(const IcmpEchoReply& o) const {
  return identifier == o.identifier && sequence == o.sequence && same_bytes(data, o.data);
}
bool IcmpDestinationUnreachable::operator==(const IcmpDestinationUnreachable& o) const {
  return code == o.code && unused == o.unused && next_hop_mtu == o.next_hop_mtu && same_bytes(quoted, o.quoted);
}
bool IcmpTimeExceeded::operator==(const IcmpTimeExceeded& o) const {
  return code == o.code && unused == o.unused && same_bytes(quoted, o.quoted);
}
bool IcmpOther::operator==(const IcmpOther& o) const {
  return type == o.type && code == o.code && rest_of_header == o.rest_of_header && same_bytes(data, o.data);
}

Result<IcmpView, Error> IcmpView::parse(Bytes message) {
  if (message.size() < kHeaderLen) {
    return fail(Error::Truncated);
  }
  return IcmpView(message);
}

IcmpType IcmpView::type() const { return static_cast<IcmpType>(load_u8(bytes_, field::kType)); }
std::uint8_t IcmpView::code() const { return load_u8(bytes_, field::kCode); }
std::uint16_t IcmpView::checksum() const { return load_be16(bytes_, field::kChecksum); }
std::uint32_t IcmpView::rest_of_header() const { return load_be32(bytes_, field::kRestOfHeader); }
std::uint16_t IcmpView::echo_identifier() const { return load_be16(bytes_, field::kEchoIdentifier); }
std::uint16_t IcmpView::echo_sequence() const { return load_be16(bytes_, field::kEchoSequence); }
std::uint16_t IcmpView::next_hop_mtu() const { return load_be16(bytes_, field::kNextHopMtu); }
Bytes IcmpView::data() const { return bytes_.subspan(field::kData); }
bool IcmpView::verify_checksum() const { return internet_checksum(bytes_) == 0; }

Result<IcmpRepr, Error> IcmpRepr::parse(const IcmpView& view, ChecksumCheck check) {
  if (check == ChecksumCheck::Verify && !view.verify_checksum()) {
    return fail(Error::BadChecksum);
  }
  const IcmpType type = view.type();
  const std::uint8_t code = view.code();
  if (type == IcmpType::EchoRequest && code == kEchoCode) {
    return IcmpRepr{IcmpEchoRequest{view.echo_identifier(), view.echo_sequence(), view.data()}};
  }
  if (type == IcmpType::EchoReply && code == kEchoCode) {
    return IcmpRepr{IcmpEchoReply{view.echo_identifier(), view.echo_sequence(), view.data()}};
  }
  if (type == IcmpType::DestinationUnreachable) {
    return IcmpRepr{IcmpDestinationUnreachable{static_cast<IcmpUnreachableCode>(code),
                                               load_be16(view.bytes(), field::kUnused), view.next_hop_mtu(),
                                               view.data()}};
  }
  if (type == IcmpType::TimeExceeded) {
    return IcmpRepr{IcmpTimeExceeded{static_cast<IcmpTimeExceededCode>(code), view.rest_of_header(), view.data()}};
  }
  return IcmpRepr{IcmpOther{type, code, view.rest_of_header(), view.data()}};
}

IcmpType IcmpRepr::type() const { return static_cast<IcmpType>(raw(message).type); }
std::uint8_t IcmpRepr::code() const { return raw(message).code; }
std::size_t IcmpRepr::buffer_len() const { return IcmpView::kHeaderLen + raw(message).data.size(); }

void IcmpRepr::emit(MutableBytes out) const {
  const RawMessage m = raw(message);
  if (out.size() != IcmpView::kHeaderLen + m.data.size()) {
    std::abort();  // a programmer error: the caller sizes the buffer
  }
  // Move the data first: it may overlap the header bytes' old contents.
  if (!m.data.empty()) {
    std::memmove(out.data() + field::kData, m.data.data(), m.data.size());
  }
  store_u8(out, field::kType, m.type);
  store_u8(out, field::kCode, m.code);
  store_be16(out, field::kChecksum, 0);
  store_be32(out, field::kRestOfHeader, m.rest_of_header);
  // RFC 792: computed with the checksum field zero, over the whole message.
  store_be16(out, field::kChecksum, internet_checksum(out));
}

Result<IcmpQuote, Error> IcmpQuote::parse(Bytes quoted) {
  auto view = Ipv4View::parse_quoted(quoted);
  if (!view.ok()) {
    return fail(view.error());
  }
  auto header = Ipv4Repr::parse(*view, ChecksumCheck::Skip);
  if (!header.ok()) {
    return fail(header.error());
  }
  const Bytes payload = view->payload();
  return IcmpQuote{*header, payload.first(std::min(payload.size(), kQuotedDataLen))};
}

std::optional<IcmpQuote::Ports> IcmpQuote::ports() const {
  // RFC 768 and RFC 9293 3.1: both headers begin with source then destination
  // port. Only an initial fragment begins with the transport header.
  const bool transport = header.protocol == IpProtocol::Tcp || header.protocol == IpProtocol::Udp;
  if (!transport || header.fragment_offset != 0 || leading.size() < 4) {
    return std::nullopt;
  }
  return Ports{load_be16(leading, 0), load_be16(leading, 2)};
}

}  // namespace tapstack::wire
