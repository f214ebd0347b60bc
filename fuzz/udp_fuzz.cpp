// UDP: a datagram that parses re-emits to the same bytes (header fields
// kept, checksum recomputed) and parses to the same Repr, and the emitted
// checksum verifies. ChecksumCheck::Verify agrees with verify_checksum().
//
// Input layout: bytes 0-3 are the pseudo header's source address, bytes 4-7
// its destination address (big-endian), the rest is the datagram. Seeds in
// corpus/fuzz/udp/ follow it.
#include <algorithm>
#include <cstdlib>

#include "fuzz/fuzz_support.hpp"
#include "stack/wire/udp.hpp"

using namespace tapstack;
using namespace tapstack::wire;
using tapstack::fuzz::require;
using tapstack::fuzz::same_up_to_zero_checksum;

namespace {
constexpr std::size_t kAddressesLen = 8;
constexpr std::size_t kChecksumAt = 6;

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
  require(view->bytes().size() == view->length());
  require(view->payload().size() + UdpView::kHeaderLen == view->length());

  auto repr = UdpRepr::parse(*view, src, dst, ChecksumCheck::Skip);
  require(repr.ok());
  const bool verified = view->verify_checksum(src, dst);
  auto strict = UdpRepr::parse(*view, src, dst, ChecksumCheck::Verify);
  if (verified) {
    require(strict.ok() && *strict == *repr);
  } else {
    require(!strict.ok() && strict.error() == Error::BadChecksum);
  }

  ByteVector out(repr->buffer_len());
  std::ranges::copy(view->payload(), out.begin() + UdpView::kHeaderLen);
  repr->emit(out, src, dst);

  // Everything but the checksum is kept; a checksum that verified, or its
  // absence, comes back unchanged too.
  const Bytes original = view->bytes();
  require(out.size() == original.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i != kChecksumAt && i != kChecksumAt + 1) {
      require(out[i] == original[i]);
    }
  }
  if (verified) {
    require(std::ranges::equal(out, original));
  }

  auto again = UdpView::parse(as_bytes(out));
  require(again.ok());
  require(again->verify_checksum(src, dst));
  auto reparsed = UdpRepr::parse(*again, src, dst, ChecksumCheck::Verify);
  require(reparsed.ok() && *reparsed == *repr);
  return 0;
}
