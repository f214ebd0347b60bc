// UDP: a datagram that parses re-emits to the same bytes (header fields
// kept, checksum recomputed) and parses to the same Repr, and the emitted
// checksum verifies. ChecksumCheck::Verify agrees with verify_checksum().
//
// Input layout: bytes 0-3 are the pseudo header's source address, bytes 4-7
// its destination address (big-endian), the rest is the datagram. Seeds in
// corpus/fuzz/udp/ follow it.
#include <algorithm>
#include <cstdlib>

#include "stack/wire/udp.hpp"

using namespace tapstack;
using namespace tapstack::wire;

namespace {
constexpr std::size_t kAddressesLen = 8;
constexpr std::size_t kChecksumAt = 6;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  if (input.size() < kAddressesLen) {
    return 0;
  }
  const Ipv4Address src = Ipv4Address::load(input, 0);
  const Ipv4Address dst = Ipv4Address::load(input, 4);
  auto view = UdpView::parse(input.subspan(kAddressesLen));
  if (!view.ok()) {
    return 0;
  }
  check(view->bytes().size() == view->length());
  check(view->payload().size() + UdpView::kHeaderLen == view->length());

  auto repr = UdpRepr::parse(*view, src, dst, ChecksumCheck::Skip);
  check(repr.ok());
  const bool verified = view->verify_checksum(src, dst);
  auto strict = UdpRepr::parse(*view, src, dst, ChecksumCheck::Verify);
  if (verified) {
    check(strict.ok() && *strict == *repr);
  } else {
    check(!strict.ok() && strict.error() == Error::BadChecksum);
  }

  ByteVector out(repr->buffer_len());
  std::ranges::copy(view->payload(), out.begin() + UdpView::kHeaderLen);
  repr->emit(out, src, dst);

  // Everything but the checksum is kept; a checksum that verified, or its
  // absence, comes back unchanged too.
  const Bytes original = view->bytes();
  check(out.size() == original.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i != kChecksumAt && i != kChecksumAt + 1) {
      check(out[i] == original[i]);
    }
  }
  if (verified) {
    check(std::ranges::equal(out, original));
  }

  auto again = UdpView::parse(as_bytes(out));
  check(again.ok());
  check(again->verify_checksum(src, dst));
  auto reparsed = UdpRepr::parse(*again, src, dst, ChecksumCheck::Verify);
  check(reparsed.ok() && *reparsed == *repr);
  return 0;
}
