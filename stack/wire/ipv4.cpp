#include "stack/wire/ipv4.hpp"

#include <algorithm>
#include <cstdlib>

#include "stack/wire/checksum.hpp"

namespace tapstack::wire {

namespace {
namespace field {
constexpr std::size_t kVersionIhl = 0;
constexpr std::size_t kDscpEcn = 1;
constexpr std::size_t kTotalLen = 2;
constexpr std::size_t kIdentification = 4;
constexpr std::size_t kFlagsFragment = 6;
constexpr std::size_t kTtl = 8;
constexpr std::size_t kProtocol = 9;
constexpr std::size_t kChecksum = 10;
constexpr std::size_t kSource = 12;
constexpr std::size_t kDestination = 16;
constexpr std::size_t kOptions = 20;
}  // namespace field

// RFC 791 3.1 "Flags": bit 0 reserved, bit 1 DF, bit 2 MF, then the 13-bit
// fragment offset in units of 8 octets.
constexpr std::uint16_t kReservedFlag = 0x8000;
constexpr std::uint16_t kDontFragment = 0x4000;
constexpr std::uint16_t kMoreFragments = 0x2000;
constexpr std::uint16_t kOffsetMask = 0x1fff;
constexpr std::size_t kOffsetUnit = 8;

constexpr std::uint8_t kVersion = 4;

// The checks both parse() and parse_quoted() make: the fixed header, the
// version and the IHL against the bytes present.
Result<Unit, Error> check_header(Bytes b) {
  if (b.size() < Ipv4View::kMinHeaderLen) {
    return fail(Error::Truncated);
  }
  const std::uint8_t version_ihl = load_u8(b, field::kVersionIhl);
  if ((version_ihl >> 4) != kVersion) {
    return fail(Error::BadVersion);
  }
  const std::size_t header_len = std::size_t{version_ihl & 0x0fu} * 4;
  if (header_len < Ipv4View::kMinHeaderLen || header_len > b.size()) {
    return fail(Error::BadHeaderLength);
  }
  if (load_be16(b, field::kTotalLen) < header_len) {
    return fail(Error::BadTotalLength);
  }
  return Unit{};
}

}  // namespace

Result<Ipv4View, Error> Ipv4View::parse(Bytes datagram) {
  if (auto checked = check_header(datagram); !checked.ok()) {
    return fail(checked.error());
  }
  const std::size_t total_len = load_be16(datagram, field::kTotalLen);
  if (total_len > datagram.size()) {
    return fail(Error::BadTotalLength);
  }
  const Ipv4View view(datagram.first(total_len));
  // RFC 791 3.2 "Fragmentation and reassembly": a fragment's bytes are placed
  // at offset * 8 in a datagram whose length must fit the 16-bit total length.
  if (std::size_t{view.fragment_offset()} + view.payload().size() > kMaxTotalLen) {
    return fail(Error::BadFragment);
  }
  return view;
}

Result<Ipv4View, Error> Ipv4View::parse_quoted(Bytes quote) {
  if (auto checked = check_header(quote); !checked.ok()) {
    return fail(checked.error());
  }
  const std::size_t total_len = load_be16(quote, field::kTotalLen);
  return Ipv4View(quote.first(std::min(total_len, quote.size())));
}

std::uint8_t Ipv4View::version() const { return load_u8(bytes_, field::kVersionIhl) >> 4; }
std::size_t Ipv4View::header_len() const { return std::size_t{load_u8(bytes_, field::kVersionIhl) & 0x0fu} * 4; }
std::uint8_t Ipv4View::dscp() const { return load_u8(bytes_, field::kDscpEcn) >> 2; }
std::uint8_t Ipv4View::ecn() const { return load_u8(bytes_, field::kDscpEcn) & 0x03; }
std::uint16_t Ipv4View::total_len() const { return load_be16(bytes_, field::kTotalLen); }
std::uint16_t Ipv4View::identification() const { return load_be16(bytes_, field::kIdentification); }
bool Ipv4View::reserved_flag() const { return (load_be16(bytes_, field::kFlagsFragment) & kReservedFlag) != 0; }
bool Ipv4View::dont_fragment() const { return (load_be16(bytes_, field::kFlagsFragment) & kDontFragment) != 0; }
bool Ipv4View::more_fragments() const { return (load_be16(bytes_, field::kFlagsFragment) & kMoreFragments) != 0; }
std::uint16_t Ipv4View::fragment_offset() const {
  return static_cast<std::uint16_t>((load_be16(bytes_, field::kFlagsFragment) & kOffsetMask) * kOffsetUnit);
}
std::uint8_t Ipv4View::ttl() const { return load_u8(bytes_, field::kTtl); }
IpProtocol Ipv4View::protocol() const { return static_cast<IpProtocol>(load_u8(bytes_, field::kProtocol)); }
std::uint16_t Ipv4View::header_checksum() const { return load_be16(bytes_, field::kChecksum); }
Ipv4Address Ipv4View::source() const { return Ipv4Address::load(bytes_, field::kSource); }
Ipv4Address Ipv4View::destination() const { return Ipv4Address::load(bytes_, field::kDestination); }
Bytes Ipv4View::options() const { return bytes_.subspan(field::kOptions, header_len() - field::kOptions); }
Bytes Ipv4View::header() const { return bytes_.first(header_len()); }
Bytes Ipv4View::payload() const { return bytes_.subspan(header_len()); }

bool Ipv4View::verify_checksum() const { return internet_checksum(header()) == 0; }

Result<Ipv4Options, Error> Ipv4Options::from_bytes(Bytes raw) {
  if (raw.size() > kMaxLen || raw.size() % 4 != 0) {
    return fail(Error::BadHeaderLength);
  }
  Ipv4Options options;
  std::copy(raw.begin(), raw.end(), options.data_.begin());
  options.len_ = static_cast<std::uint8_t>(raw.size());
  return options;
}

bool Ipv4Options::operator==(const Ipv4Options& other) const { return std::ranges::equal(bytes(), other.bytes()); }

Result<Ipv4Repr, Error> Ipv4Repr::parse(const Ipv4View& view, ChecksumCheck check) {
  if (check == ChecksumCheck::Verify && !view.verify_checksum()) {
    return fail(Error::BadChecksum);
  }
  // The view's IHL makes the options a multiple of 4 and at most 40 bytes.
  auto options = Ipv4Options::from_bytes(view.options());
  if (!options.ok()) {
    return fail(options.error());
  }
  Ipv4Repr repr;
  repr.dscp = view.dscp();
  repr.ecn = view.ecn();
  repr.identification = view.identification();
  repr.reserved_flag = view.reserved_flag();
  repr.dont_fragment = view.dont_fragment();
  repr.more_fragments = view.more_fragments();
  repr.fragment_offset = view.fragment_offset();
  repr.ttl = view.ttl();
  repr.protocol = view.protocol();
  repr.source = view.source();
  repr.destination = view.destination();
  repr.options = *options;
  repr.payload_len = static_cast<std::uint16_t>(view.total_len() - view.header_len());
  return repr;
}

void Ipv4Repr::emit(MutableBytes out) const {
  const std::size_t hlen = header_len();
  if (out.size() < hlen) {
    std::abort();  // a programmer error: the caller sizes the buffer
  }
  store_u8(out, field::kVersionIhl, static_cast<std::uint8_t>((kVersion << 4) | (hlen / 4)));
  store_u8(out, field::kDscpEcn, static_cast<std::uint8_t>((dscp << 2) | (ecn & 0x03)));
  store_be16(out, field::kTotalLen, static_cast<std::uint16_t>(hlen + payload_len));
  store_be16(out, field::kIdentification, identification);
  std::uint16_t flags_fragment = static_cast<std::uint16_t>((fragment_offset / kOffsetUnit) & kOffsetMask);
  if (reserved_flag) {
    flags_fragment |= kReservedFlag;
  }
  if (dont_fragment) {
    flags_fragment |= kDontFragment;
  }
  if (more_fragments) {
    flags_fragment |= kMoreFragments;
  }
  store_be16(out, field::kFlagsFragment, flags_fragment);
  store_u8(out, field::kTtl, ttl);
  store_u8(out, field::kProtocol, static_cast<std::uint8_t>(protocol));
  store_be16(out, field::kChecksum, 0);
  source.store(out, field::kSource);
  destination.store(out, field::kDestination);
  const Bytes raw_options = options.bytes();
  std::copy(raw_options.begin(), raw_options.end(), out.begin() + field::kOptions);
  // RFC 791 3.1: computed with the checksum field zero.
  store_be16(out, field::kChecksum, internet_checksum(Bytes{out.data(), hlen}));
}

}  // namespace tapstack::wire
