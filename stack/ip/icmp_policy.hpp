#pragma once
// When the host may generate an ICMP error (RFC 1122 3.2.2), and how often
// (a token bucket: RFC 1812 4.3.2.8 recommends one; RFC 1122 3.2.2 lets
// errors be limited). Pure: time is passed in.

#include <cstdint>
#include <optional>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/wire/address.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack::ip {

// Why no ICMP error may be sent about a datagram (RFC 1122 3.2.2, whose
// rules "take precedence over any requirement elsewhere"), or Allowed.
enum class IcmpErrorVerdict : std::uint8_t {
  Allowed,
  NonInitialFragment,       // fragment offset != 0
  NotUnicastDestination,    // limited, subnet or 0.0.0.0 broadcast, or multicast
  LinkLayerBroadcast,       // the frame came to a link-layer broadcast/multicast address
  NotUnicastSource,         // 0.0.0.0, broadcast (limited or our subnet's), multicast, loopback, class E
  AboutIcmpError,           // the datagram is an ICMP error (or an ICMP message whose type is unknown)
};

std::string_view to_string(IcmpErrorVerdict verdict);

// The rules in the order above. `offending_payload` is the datagram's payload
// (as much of it as is at hand; only its first byte, the ICMP type, is read).
// ICMP: only error messages count (destination unreachable, source quench,
// redirect, time exceeded, parameter problem, and the rare RFC 1393/1475/2521
// error types); errors about queries (echo, timestamp, information, address
// mask, router discovery, extended echo) are fine. A type this list does not
// know is treated as an error, as Linux does: answering an unknown error with
// an error could start a loop. An ICMP datagram without a type byte is
// treated the same way.
IcmpErrorVerdict icmp_error_verdict(const wire::Ipv4Repr& offending, Bytes offending_payload,
                                    wire::Ipv4Address subnet_broadcast, bool link_layer_broadcast = false);

// icmp_error_verdict(...) == Allowed, for a datagram that came to our unicast MAC.
bool may_send_icmp_error(const wire::Ipv4Repr& offending, Bytes offending_payload,
                         wire::Ipv4Address subnet_broadcast);

// True for the ICMP types that are error messages (or unknown); false for queries.
bool is_icmp_error_type(std::uint8_t type);

// A token bucket in integer arithmetic: `burst` tokens at most, refilled at
// `per_second` tokens per second, one token per allowed error. It starts full
// at the first allow(). Credit is kept in token-nanoseconds, so refilling loses
// nothing to rounding and the outcome depends only on the instants passed.
// per_second 0 allows `burst` errors ever; burst 0 allows none. An instant
// earlier than the last one refills nothing.
class TokenBucket {
 public:
  TokenBucket(std::uint32_t per_second, std::uint32_t burst);

  // Takes a token if one is available at `now`.
  bool allow(Instant now);

  // Whole tokens available at the last allow() (after it took one).
  std::uint64_t tokens() const { return credit_ / kScale; }

 private:
  static constexpr std::uint64_t kScale = 1'000'000'000;  // credit units per token (ns per second)
  void refill(Instant now);

  std::uint64_t per_second_;
  std::uint64_t capacity_;  // burst * kScale
  std::uint64_t credit_;
  std::optional<Instant> last_;
};

}  // namespace tapstack::ip
