// TCP: a segment that parses re-emits to the same bytes (every header field,
// the reserved bits and the option space kept; the checksum recomputed),
// parses to the same Repr, and the emitted checksum verifies.
// ChecksumCheck::Verify agrees with verify_checksum().
//
// Input layout: bytes 0-3 are the pseudo header's source address, bytes 4-7
// its destination address (big-endian), the rest is the segment. Seeds in
// corpus/fuzz/tcp/ follow it.
#include <algorithm>
#include <cstdlib>

#include "fuzz/fuzz_support.hpp"
#include "stack/wire/tcp.hpp"

using namespace tapstack;
using namespace tapstack::wire;
using tapstack::fuzz::require;
using tapstack::fuzz::same_up_to_zero_checksum;

namespace {
constexpr std::size_t kAddressesLen = 8;
constexpr std::size_t kChecksumAt = 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  if (input.size() < kAddressesLen) {
    return 0;
  }
  const Ipv4Address src = Ipv4Address::load(input, 0);
  const Ipv4Address dst = Ipv4Address::load(input, 4);
  const Bytes segment = input.subspan(kAddressesLen);
  auto view = TcpView::parse(segment);
  if (!view.ok()) {
    return 0;
  }
  require(view->header_len() + view->payload().size() == segment.size());
  require(view->options().size() == view->header_len() - TcpView::kHeaderLen);

  const bool verified = view->verify_checksum(src, dst);
  auto repr = TcpRepr::parse(*view, src, dst, ChecksumCheck::Skip);
  auto strict = TcpRepr::parse(*view, src, dst, ChecksumCheck::Verify);
  if (!verified) {
    // The checksum is checked before the options.
    require(!strict.ok() && strict.error() == Error::BadChecksum);
  }
  if (!repr.ok()) {
    require(repr.error() == Error::BadOptionLength || repr.error() == Error::BadOption);
    require(!TcpOptions::parse(view->options()).ok());
    if (verified) {
      require(!strict.ok() && strict.error() == repr.error());
    }
    return 0;
  }
  if (verified) {
    require(strict.ok() && *strict == *repr);
  }
  require(repr->header_len() == view->header_len());

  ByteVector out(repr->buffer_len());
  std::ranges::copy(view->payload(), out.begin() + static_cast<std::ptrdiff_t>(repr->header_len()));
  repr->emit(out, src, dst);

  require(out.size() == segment.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i != kChecksumAt && i != kChecksumAt + 1) {
      require(out[i] == segment[i]);
    }
  }
  if (verified) {
    // 0x0000 and 0xffff are the same ones' complement value: a received
    // 0xffff verifies where emit computes 0.
    const std::uint16_t sent = load_be16(segment, kChecksumAt);
    const std::uint16_t emitted = load_be16(as_bytes(out), kChecksumAt);
    require(sent == emitted || (sent == 0xffff && emitted == 0));
  }

  auto again = TcpView::parse(as_bytes(out));
  require(again.ok());
  require(again->verify_checksum(src, dst));
  auto reparsed = TcpRepr::parse(*again, src, dst, ChecksumCheck::Verify);
  require(reparsed.ok() && *reparsed == *repr);
  return 0;
}
