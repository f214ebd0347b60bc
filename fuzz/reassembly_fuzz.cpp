// IPv4 reassembly under a stream of fragments and time steps cut from the
// input. Invariants, checked after every step: bytes_held() <=
// total_bytes_max, datagrams_held() <= datagrams_max; every reassembled
// datagram has payload length == header.payload_len, fits the datagram limit
// and 65535, is not a fragment, and, for a datagram id no corrupt fragment
// was ever sent for, holds exactly the true bytes; every expiry report is well
// formed; at the end a poll past the timeout leaves nothing held.
//
// Input: 4 bytes of limits, then 5-byte steps.
//   limits: [0] datagrams_max = 1 + (b & 7); [1..2] total_bytes_max = be16 * 16;
//           [3] datagram_bytes_max = 576 + b * 256 (may exceed 65535 on purpose).
//   step:   [0] flags: 0x80 time step (then [1..2] = milliseconds, then poll);
//               else 0x03 id, 0x04 MF, 0x08 corrupt the first byte,
//               0x10 a 4-byte option, 0x20 keep a length that is not whole units;
//           [1..2] offset in 8-byte units (13 bits); [3..4] length (14 bits).
// A datagram that is not a fragment (offset 0, MF clear) is returned as it is,
// whatever its size: the limits are for reassembly only.
#include <algorithm>
#include <array>
#include <cstdlib>

#include "fuzz/fuzz_support.hpp"
#include "stack/ip/reassembly.hpp"

using namespace tapstack;
using tapstack::fuzz::require;

namespace {

constexpr std::size_t kLimitsLen = 4;
constexpr std::size_t kStepLen = 5;
constexpr std::size_t kIds = 4;

std::byte truth(std::uint16_t id, std::size_t at) {
  return static_cast<std::byte>((id * 31 + at * 7 + (at >> 8)) & 0xff);
}

ByteVector build_fragment(std::uint16_t id, std::size_t offset, std::size_t len, bool more, bool corrupt,
                          bool with_option) {
  wire::Ipv4Repr h;
  h.identification = id;
  h.more_fragments = more;
  h.fragment_offset = static_cast<std::uint16_t>(offset);
  h.protocol = wire::IpProtocol::Icmp;
  h.source = wire::Ipv4Address::from_octets(10, 0, 0, 1);
  h.destination = wire::Ipv4Address::from_octets(10, 0, 0, 2);
  h.payload_len = static_cast<std::uint16_t>(len);
  if (with_option) {
    const std::array<std::byte, 4> router_alert{std::byte{0x94}, std::byte{0x04}, std::byte{0}, std::byte{0}};
    h.options = *wire::Ipv4Options::from_bytes(Bytes{router_alert});
  }
  ByteVector out(h.header_len() + len);
  h.emit(out);
  for (std::size_t i = 0; i < len; ++i) {
    out[h.header_len() + i] = truth(id, offset + i);
  }
  if (corrupt && len > 0) {
    out[h.header_len()] ^= std::byte{0x5a};
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kLimitsLen) {
    return 0;
  }
  ReassemblyLimits limits;
  limits.datagrams_max = 1 + (data[0] & 7u);
  limits.total_bytes_max = ((std::size_t{data[1]} << 8) | data[2]) * 16;
  limits.datagram_bytes_max = 576 + std::size_t{data[3]} * 256;
  limits.timeout = Duration::seconds(1);
  const std::size_t size_max = std::min<std::size_t>(limits.datagram_bytes_max, 65535);

  ip::Reassembler reassembler(limits);
  std::array<bool, kIds> corrupted{};
  Instant now = Instant::epoch();
  auto check_expired = [](const ip::ExpiredDatagram& e) {
    require(e.first_bytes.size() <= ip::Reassembler::kFirstBytesMax);
    if (e.had_first_fragment) {
      require(e.first_bytes.size() >= e.first_header.header_len());
      require(e.first_header.fragment_offset == 0);
      require(e.first_header.more_fragments);
    } else {
      require(e.first_bytes.empty());
    }
  };

  for (std::size_t at = kLimitsLen; at + kStepLen <= size; at += kStepLen) {
    const std::uint8_t flags = data[at];
    const std::size_t word1 = (std::size_t{data[at + 1]} << 8) | data[at + 2];
    const std::size_t word2 = (std::size_t{data[at + 3]} << 8) | data[at + 4];
    if ((flags & 0x80) != 0) {
      now += Duration::milliseconds(static_cast<std::int64_t>(word1));
      reassembler.poll(now, check_expired);
      require(reassembler.next_deadline() > now);
    } else {
      const auto id = static_cast<std::uint16_t>(flags & 0x03);
      const bool more = (flags & 0x04) != 0;
      const bool corrupt = (flags & 0x08) != 0;
      const std::size_t offset = (word1 & 0x1fff) * 8;
      std::size_t len = word2 & 0x3fff;
      if ((flags & 0x20) == 0) {
        len -= len % 8;
      }
      len = std::min(len, std::size_t{65535} - offset);
      const ByteVector bytes = build_fragment(id, offset, len, more, corrupt, (flags & 0x10) != 0);
      if (corrupt && len > 0) {
        corrupted[id] = true;
      }
      auto view = wire::Ipv4View::parse(as_bytes(bytes));
      require(view.ok());
      if (auto result = reassembler.add(*view, now)) {
        require(result->payload.size() == result->header.payload_len);
        // A datagram that was not a fragment passes through as it is.
        const bool fragment = more || offset != 0;
        require(fragment ? result->header.buffer_len() <= size_max : result->header.buffer_len() == bytes.size());
        require(result->header.fragment_offset == 0);
        require(!result->header.more_fragments);
        require(result->header.identification == id);
        if (!corrupted[id]) {
          for (std::size_t i = 0; i < result->payload.size(); ++i) {
            require(result->payload[i] == truth(id, i));
          }
        }
      }
    }
    require(reassembler.bytes_held() <= limits.total_bytes_max);
    require(reassembler.datagrams_held() <= limits.datagrams_max);
  }
  reassembler.poll(now + limits.timeout, check_expired);
  require(reassembler.datagrams_held() == 0);
  require(reassembler.bytes_held() == 0);
  return 0;
}
