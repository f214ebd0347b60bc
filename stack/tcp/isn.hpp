#pragma once
// Initial sequence numbers per RFC 6528 section 3:
//   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
// M is a timer ticking every 4 microseconds, taken from the Instant the caller
// passes (the stack reads no clock), and F is SipHash-2-4 (Aumasson and
// Bernstein, "SipHash: a fast short-input PRF", 2012) keyed with 128 secret
// bits. The key comes from the caller's seeded Rng, so simulator runs stay
// deterministic while live runs stay unpredictable to off-path attackers.

#include <array>
#include <cstdint>

#include "stack/base/bytes.hpp"
#include "stack/base/rng.hpp"
#include "stack/base/time.hpp"
#include "stack/tcp/seq.hpp"
#include "stack/wire/address.hpp"

namespace tapstack::tcp {

// The 128-bit SipHash key, as the 16 key bytes k0..k15 of the paper.
struct IsnKey {
  std::array<std::uint8_t, 16> bytes{};

  // 128 bits drawn from `rng` (RFC 6528 3: the secret should be random; here it
  // is as random as the caller's seed).
  static IsnKey generate(Rng& rng);

  bool operator==(const IsnKey&) const = default;
};

// SipHash-2-4 of `message` under `key`; the 8 output bytes read as a
// little-endian integer, as in the paper's test vectors.
std::uint64_t siphash24(const IsnKey& key, Bytes message);

// M of RFC 6528 3: floor(now / 4 us) mod 2^32, i.e. 250,000 ticks per second,
// wrapping every ~4.77 hours as RFC 9293 3.4.1 describes.
SeqNum isn_clock(Instant now);

// F of RFC 6528 3: the low 32 bits of SipHash-2-4 over the 12-byte message
// localip | localport | remoteip | remoteport (network byte order).
std::uint32_t isn_offset(const IsnKey& key, wire::Ipv4Address local_ip, std::uint16_t local_port,
                         wire::Ipv4Address remote_ip, std::uint16_t remote_port);

// ISN = M + F (RFC 6528 3).
SeqNum initial_sequence_number(const IsnKey& key, wire::Ipv4Address local_ip, std::uint16_t local_port,
                               wire::Ipv4Address remote_ip, std::uint16_t remote_port, Instant now);

}  // namespace tapstack::tcp
