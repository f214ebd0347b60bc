#include "stack/ip/icmp_policy.hpp"

#include <algorithm>

namespace tapstack::ip {

namespace {

// Class E, 240.0.0.0/4 (RFC 1122 3.2.1.3 and 3.2.2 name it as a non-host
// source); 255.255.255.255 lies inside it too.
constexpr bool is_class_e(wire::Ipv4Address a) { return (a.value >> 28) == 0xf; }

}  // namespace

std::string_view to_string(IcmpErrorVerdict verdict) {
  switch (verdict) {
    case IcmpErrorVerdict::Allowed: return "allowed";
    case IcmpErrorVerdict::NonInitialFragment: return "non-initial fragment";
    case IcmpErrorVerdict::NotUnicastDestination: return "not a unicast destination";
    case IcmpErrorVerdict::LinkLayerBroadcast: return "link-layer broadcast";
    case IcmpErrorVerdict::NotUnicastSource: return "not a unicast source";
    case IcmpErrorVerdict::AboutIcmpError: return "about an ICMP error";
  }
  return "unknown";
}

bool is_icmp_error_type(std::uint8_t type) {
  switch (type) {
    // Queries and replies (RFC 792, RFC 950 address mask, RFC 1256 router
    // discovery, RFC 8335 extended echo).
    case 0:   // echo reply
    case 8:   // echo request
    case 9:   // router advertisement
    case 10:  // router solicitation
    case 13:  // timestamp
    case 14:  // timestamp reply
    case 15:  // information request
    case 16:  // information reply
    case 17:  // address mask request
    case 18:  // address mask reply
    case 42:  // extended echo request
    case 43:  // extended echo reply
      return false;
    // Errors: 3 destination unreachable, 4 source quench, 5 redirect, 11 time
    // exceeded, 12 parameter problem (RFC 792), and anything unknown.
    default:
      return true;
  }
}

IcmpErrorVerdict icmp_error_verdict(const wire::Ipv4Repr& offending, Bytes offending_payload,
                                    wire::Ipv4Address subnet_broadcast, bool link_layer_broadcast) {
  // RFC 1122 3.2.2 "a non-initial fragment".
  if (offending.fragment_offset != 0) {
    return IcmpErrorVerdict::NonInitialFragment;
  }
  // "a datagram destined to an IP broadcast or IP multicast address"; RFC
  // 1122 3.3.6 counts {0, 0} (0.0.0.0) among the broadcast forms.
  const wire::Ipv4Address dst = offending.destination;
  if (dst.is_broadcast() || dst == subnet_broadcast || dst.is_multicast() || dst.is_unspecified()) {
    return IcmpErrorVerdict::NotUnicastDestination;
  }
  // "a datagram sent as a link-layer broadcast".
  if (link_layer_broadcast) {
    return IcmpErrorVerdict::LinkLayerBroadcast;
  }
  // "a datagram whose source address does not define a single host -- e.g.,
  // a zero address, a loopback address, a broadcast address, a multicast
  // address, or a Class E address".
  const wire::Ipv4Address src = offending.source;
  if (src.is_unspecified() || src.is_loopback() || src.is_multicast() || is_class_e(src) ||
      src == subnet_broadcast) {
    return IcmpErrorVerdict::NotUnicastSource;
  }
  // "an ICMP error message".
  if (offending.protocol == wire::IpProtocol::Icmp &&
      (offending_payload.empty() || is_icmp_error_type(load_u8(offending_payload, 0)))) {
    return IcmpErrorVerdict::AboutIcmpError;
  }
  return IcmpErrorVerdict::Allowed;
}

bool may_send_icmp_error(const wire::Ipv4Repr& offending, Bytes offending_payload,
                         wire::Ipv4Address subnet_broadcast) {
  return icmp_error_verdict(offending, offending_payload, subnet_broadcast) == IcmpErrorVerdict::Allowed;
}

TokenBucket::TokenBucket(std::uint32_t per_second, std::uint32_t burst)
    : per_second_(per_second), capacity_(std::uint64_t{burst} * kScale), credit_(capacity_) {}

void TokenBucket::refill(Instant now) {
  if (!last_.has_value()) {
    last_ = now;  // starts full
    return;
  }
  if (now <= *last_) {
    return;
  }
  if (per_second_ != 0 && credit_ < capacity_) {
    // Elapsed time beyond what refills the bucket adds nothing; capping it
    // first keeps the product below 2^64 (capacity < 2^32 * 10^9 < 2^62).
    const std::uint64_t missing = capacity_ - credit_;
    const std::uint64_t enough_ns = (missing + per_second_ - 1) / per_second_;
    const auto elapsed = static_cast<std::uint64_t>((now - *last_).ns());
    credit_ = std::min(capacity_, credit_ + std::min(elapsed, enough_ns) * per_second_);
  }
  last_ = now;
}

bool TokenBucket::allow(Instant now) {
  refill(now);
  if (credit_ < kScale) {
    return false;
  }
  credit_ -= kScale;
  return true;
}

}  // namespace tapstack::ip
