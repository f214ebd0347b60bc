#include "stack/wire/udp.hpp"

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {

namespace {

namespace field {
constexpr std::size_t kSourcePort = 0;
constexpr std::size_t kDestinationPort = 2;
constexpr std::size_t kLength = 4;
constexpr std::size_t kChecksum = 6;
}  // namespace field

constexpr std::uint8_t kProtocolUdp = 17;

// The checksum of a datagram (checksum field included as it stands) under
// the pseudo header: 0 over a datagram with a correct checksum field.
std::uint16_t datagram_checksum(Bytes datagram, Ipv4Address source, Ipv4Address destination) {
  Checksum c;
  c.add_pseudo_header(source, destination, kProtocolUdp, static_cast<std::uint16_t>(datagram.size()));
  c.add(datagram);
  return c.finish();
}

}  // namespace

Result<UdpView, Error> UdpView::parse(Bytes datagram) {
  if (datagram.size() < kHeaderLen) {
    return fail(Error::Truncated);
  }
  const std::size_t length = load_be16(datagram, field::kLength);
  if (length < kHeaderLen || length > datagram.size()) {
    return fail(Error::BadLength);
  }
  return UdpView(datagram.first(length));
}

std::uint16_t UdpView::source_port() const { return load_be16(bytes_, field::kSourcePort); }
std::uint16_t UdpView::destination_port() const { return load_be16(bytes_, field::kDestinationPort); }
std::uint16_t UdpView::length() const { return load_be16(bytes_, field::kLength); }
std::uint16_t UdpView::checksum() const { return load_be16(bytes_, field::kChecksum); }

bool UdpView::verify_checksum(Ipv4Address source, Ipv4Address destination) const {
  if (!has_checksum()) {
    return true;
  }
  return datagram_checksum(bytes_, source, destination) == 0;
}

Result<UdpRepr, Error> UdpRepr::parse(const UdpView& view, Ipv4Address source, Ipv4Address destination,
                                      ChecksumCheck check) {
  if (check == ChecksumCheck::Verify && !view.verify_checksum(source, destination)) {
    return fail(Error::BadChecksum);
  }
  return UdpRepr{view.source_port(), view.destination_port(), view.payload().size(), view.has_checksum()};
}

void UdpRepr::emit(MutableBytes out, Ipv4Address source, Ipv4Address destination) const {
  store_be16(out, field::kSourcePort, source_port);
  store_be16(out, field::kDestinationPort, destination_port);
  store_be16(out, field::kLength, static_cast<std::uint16_t>(buffer_len()));
  store_be16(out, field::kChecksum, 0);
  if (!has_checksum) {
    return;
  }
  const std::uint16_t sum = datagram_checksum(out.first(buffer_len()), source, destination);
  // RFC 768: "If the computed checksum is zero, it is transmitted as all
  // ones", which is the same value in ones' complement arithmetic.
  store_be16(out, field::kChecksum, sum == 0 ? 0xffff : sum);
}

}  // namespace tapstack::wire
