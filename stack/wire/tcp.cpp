#include "stack/wire/tcp.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {

namespace {

namespace field {
constexpr std::size_t kSourcePort = 0;
constexpr std::size_t kDestinationPort = 2;
constexpr std::size_t kSeqNumber = 4;
constexpr std::size_t kAckNumber = 8;
constexpr std::size_t kOffsetAndFlags = 12;  // 4 bits offset, 3 reserved, 9 flags
constexpr std::size_t kWindow = 14;
constexpr std::size_t kChecksum = 16;
constexpr std::size_t kUrgentPointer = 18;
constexpr std::size_t kOptions = 20;
}  // namespace field

constexpr unsigned kDataOffsetShift = 12;
constexpr unsigned kReservedShift = 9;
constexpr std::uint16_t kReservedMask = 0x7;
constexpr std::uint8_t kMinDataOffset = 5;  // words: the fixed header
constexpr std::uint8_t kProtocolTcp = 6;

// The checksum of a segment (checksum field included as it stands) under the
// pseudo header: 0 over a segment with a correct checksum field.
std::uint16_t segment_checksum(Bytes segment, Ipv4Address source, Ipv4Address destination) {
  Checksum c;
  c.add_pseudo_header(source, destination, kProtocolTcp, static_cast<std::uint16_t>(segment.size()));
  c.add(segment);
  return c.finish();
}

}  // namespace

std::string TcpFlags::to_string() const {
  static constexpr std::array<std::pair<TcpFlags, std::string_view>, 9> kNames{{
      {TcpFlags::Syn, "SYN"},
      {TcpFlags::Fin, "FIN"},
      {TcpFlags::Rst, "RST"},
      {TcpFlags::Psh, "PSH"},
      {TcpFlags::Ack, "ACK"},
      {TcpFlags::Urg, "URG"},
      {TcpFlags::Ece, "ECE"},
      {TcpFlags::Cwr, "CWR"},
      {TcpFlags::Ae, "AE"},
  }};
  std::string out;
  for (const auto& [flag, name] : kNames) {
    if (has(flag)) {
      if (!out.empty()) {
        out += '|';
      }
      out += name;
    }
  }
  return out.empty() ? "none" : out;
}

Result<TcpView, Error> TcpView::parse(Bytes segment) {
  if (segment.size() < kHeaderLen) {
    return fail(Error::Truncated);
  }
  const TcpView view(segment);
  if (view.data_offset() < kMinDataOffset || view.header_len() > segment.size()) {
    return fail(Error::BadDataOffset);
  }
  return view;
}

std::uint16_t TcpView::source_port() const { return load_be16(bytes_, field::kSourcePort); }
std::uint16_t TcpView::destination_port() const { return load_be16(bytes_, field::kDestinationPort); }
std::uint32_t TcpView::seq_number() const { return load_be32(bytes_, field::kSeqNumber); }
std::uint32_t TcpView::ack_number() const { return load_be32(bytes_, field::kAckNumber); }

std::uint8_t TcpView::data_offset() const {
  return static_cast<std::uint8_t>(load_be16(bytes_, field::kOffsetAndFlags) >> kDataOffsetShift);
}

std::uint8_t TcpView::reserved() const {
  return static_cast<std::uint8_t>((load_be16(bytes_, field::kOffsetAndFlags) >> kReservedShift) & kReservedMask);
}

TcpFlags TcpView::flags() const { return TcpFlags(load_be16(bytes_, field::kOffsetAndFlags)); }
std::uint16_t TcpView::window() const { return load_be16(bytes_, field::kWindow); }
std::uint16_t TcpView::checksum() const { return load_be16(bytes_, field::kChecksum); }
std::uint16_t TcpView::urgent_pointer() const { return load_be16(bytes_, field::kUrgentPointer); }

bool TcpView::verify_checksum(Ipv4Address source, Ipv4Address destination) const {
  if (bytes_.size() > 0xffff) {
    return false;
  }
  return segment_checksum(bytes_, source, destination) == 0;
}

Result<TcpRepr, Error> TcpRepr::parse(const TcpView& view, Ipv4Address source, Ipv4Address destination,
                                      ChecksumCheck check) {
  // RFC 9293 MUST-3: a segment that fails its checksum is dropped before
  // anything in it, options included, is believed.
  if (check == ChecksumCheck::Verify && !view.verify_checksum(source, destination)) {
    return fail(Error::BadChecksum);
  }
  auto options = TcpOptions::parse(view.options());
  if (!options.ok()) {
    return fail(options.error());
  }
  TcpRepr repr;
  repr.source_port = view.source_port();
  repr.destination_port = view.destination_port();
  repr.seq_number = view.seq_number();
  repr.ack_number = view.ack_number();
  repr.flags = view.flags();
  repr.reserved = view.reserved();
  repr.window = view.window();
  repr.urgent_pointer = view.urgent_pointer();
  repr.options = *options;
  repr.payload_len = view.payload().size();
  return repr;
}

void TcpRepr::emit(MutableBytes out, Ipv4Address source, Ipv4Address destination) const {
  const auto data_offset = static_cast<std::uint16_t>(header_len() / 4);
  const auto offset_and_flags =
      static_cast<std::uint16_t>((data_offset << kDataOffsetShift) |
                                 ((reserved & kReservedMask) << kReservedShift) | flags.bits());
  store_be16(out, field::kSourcePort, source_port);
  store_be16(out, field::kDestinationPort, destination_port);
  store_be32(out, field::kSeqNumber, seq_number);
  store_be32(out, field::kAckNumber, ack_number);
  store_be16(out, field::kOffsetAndFlags, offset_and_flags);
  store_be16(out, field::kWindow, window);
  store_be16(out, field::kChecksum, 0);
  store_be16(out, field::kUrgentPointer, urgent_pointer);
  const Bytes opts = options.bytes();
  std::ranges::copy(opts, out.begin() + field::kOptions);
  // RFC 9293 MUST-69: the header beyond the options is zero padding.
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(field::kOptions + opts.size()),
            out.begin() + static_cast<std::ptrdiff_t>(header_len()), std::byte{0});
  // RFC 9293 MUST-2: the checksum is never optional for TCP.
  store_be16(out, field::kChecksum, segment_checksum(out.first(buffer_len()), source, destination));
}

}  // namespace tapstack::wire
