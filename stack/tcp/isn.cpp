#include "stack/tcp/isn.hpp"

#include <cstddef>

namespace tapstack::tcp {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

std::uint64_t load_le64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | p[i];
  }
  return v;
}

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  // One SipRound (paper, section 2, figure 2.1).
  void round() {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  }

  // c = 2 compression rounds per message word.
  void compress(std::uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

constexpr std::int64_t kNsPerTick = 4'000;  // RFC 6528 3: M ticks every 4 microseconds

}  // namespace

IsnKey IsnKey::generate(Rng& rng) {
  IsnKey key;
  for (std::size_t half = 0; half < 2; ++half) {
    const std::uint64_t word = rng.next_u64();
    for (std::size_t i = 0; i < 8; ++i) {
      key.bytes[half * 8 + i] = static_cast<std::uint8_t>(word >> (8 * i));
    }
  }
  return key;
}

std::uint64_t siphash24(const IsnKey& key, Bytes message) {
  const std::uint64_t k0 = load_le64(key.bytes.data());
  const std::uint64_t k1 = load_le64(key.bytes.data() + 8);
  // Initialisation constants: "somepseudorandomlygeneratedbytes".
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};

  const std::size_t len = message.size();
  const std::size_t full = len - len % 8;
  for (std::size_t at = 0; at < full; at += 8) {
    std::uint64_t m = 0;
    for (std::size_t i = 0; i < 8; ++i) {
      m |= std::uint64_t{std::to_integer<std::uint8_t>(message[at + i])} << (8 * i);
    }
    s.compress(m);
  }
  // Last word: the remaining bytes, then the length mod 256 in the top byte.
  std::uint64_t last = static_cast<std::uint64_t>(len & 0xff) << 56;
  for (std::size_t i = 0; i < len % 8; ++i) {
    last |= std::uint64_t{std::to_integer<std::uint8_t>(message[full + i])} << (8 * i);
  }
  s.compress(last);

  // Finalisation: d = 4 rounds.
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) {
    s.round();
  }
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

SeqNum isn_clock(Instant now) {
  // Floor division, so M keeps increasing even across negative instants.
  std::int64_t ticks = now.ns() / kNsPerTick;
  if (now.ns() % kNsPerTick < 0) {
    --ticks;
  }
  return SeqNum{static_cast<std::uint32_t>(static_cast<std::uint64_t>(ticks))};
}

std::uint32_t isn_offset(const IsnKey& key, wire::Ipv4Address local_ip, std::uint16_t local_port,
                         wire::Ipv4Address remote_ip, std::uint16_t remote_port) {
  std::array<std::byte, 12> message{};
  const MutableBytes out{message};
  store_be32(out, 0, local_ip.value);
  store_be16(out, 4, local_port);
  store_be32(out, 6, remote_ip.value);
  store_be16(out, 10, remote_port);
  return static_cast<std::uint32_t>(siphash24(key, Bytes{message}));
}

SeqNum initial_sequence_number(const IsnKey& key, wire::Ipv4Address local_ip, std::uint16_t local_port,
                               wire::Ipv4Address remote_ip, std::uint16_t remote_port, Instant now) {
  return isn_clock(now) + SeqLen{isn_offset(key, local_ip, local_port, remote_ip, remote_port)};
}

}  // namespace tapstack::tcp
