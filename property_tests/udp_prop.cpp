// UDP: parse(emit(r)) == r for arbitrary reprs and payloads, the emitted
// checksum verifies, and the payload placed before emit is left intact.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "stack/wire/udp.hpp"

namespace tapstack::wire {

RC_GTEST_PROP(UdpProp, ParseOfEmitIsIdentity,
              (std::uint16_t source_port, std::uint16_t destination_port, bool has_checksum, std::uint32_t src,
               std::uint32_t dst)) {
  const auto payload = *rc::gen::container<std::vector<std::uint8_t>>(
      *rc::gen::inRange<std::size_t>(0, 1500), rc::gen::arbitrary<std::uint8_t>());
  const UdpRepr repr{source_port, destination_port, payload.size(), has_checksum};
  const Ipv4Address source{src};
  const Ipv4Address destination{dst};

  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  std::ranges::transform(payload, out.begin() + UdpView::kHeaderLen, [](std::uint8_t b) { return std::byte{b}; });
  repr.emit(out, source, destination);

  auto view = UdpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(view->verify_checksum(source, destination));
  auto parsed = UdpRepr::parse(*view, source, destination, ChecksumCheck::Verify);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == repr);
  RC_ASSERT(std::ranges::equal(view->payload(), payload, {}, {}, [](std::uint8_t b) { return std::byte{b}; }));
}

RC_GTEST_PROP(UdpProp, OneFlippedBitFailsTheChecksum, (std::uint32_t src, std::uint32_t dst)) {
  const auto payload = *rc::gen::container<std::vector<std::uint8_t>>(
      *rc::gen::inRange<std::size_t>(1, 200), rc::gen::arbitrary<std::uint8_t>());
  const UdpRepr repr{53, 5353, payload.size(), true};
  ByteVector out(repr.buffer_len());
  std::ranges::transform(payload, out.begin() + UdpView::kHeaderLen, [](std::uint8_t b) { return std::byte{b}; });
  repr.emit(out, Ipv4Address{src}, Ipv4Address{dst});
  // Any bit of the payload: ones' complement sums catch every single-bit error.
  const auto at = *rc::gen::inRange<std::size_t>(UdpView::kHeaderLen, out.size());
  const auto bit = *rc::gen::inRange(0, 8);
  out[at] ^= static_cast<std::byte>(1 << bit);
  auto view = UdpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  auto parsed = UdpRepr::parse(*view, Ipv4Address{src}, Ipv4Address{dst}, ChecksumCheck::Verify);
  RC_ASSERT(!parsed.ok());
  RC_ASSERT(parsed.error() == Error::BadChecksum);
}

}  // namespace tapstack::wire
