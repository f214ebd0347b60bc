// IPv4: any datagram that parses re-emits to a header whose checksum verifies
// and that parses to the same Repr; when the input's checksum was right, the
// re-emitted header equals the input's byte for byte (but for a checksum of
// 0x0000 against 0xffff: RFC 1624 3, both zeros verify). The quoted-header parse
// (ICMP errors) is fuzzed on the same input: it must accept whatever parse()
// accepts and never read past the input.
#include <cstdlib>

#include "fuzz/fuzz_support.hpp"
#include "stack/wire/ipv4.hpp"

using namespace tapstack;
using namespace tapstack::wire;
using tapstack::fuzz::require;
using tapstack::fuzz::same_up_to_zero_checksum;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  auto quoted = Ipv4View::parse_quoted(input);
  if (quoted.ok() && (quoted->payload().size() + quoted->header_len() > size)) {
    std::abort();
  }
  auto view = Ipv4View::parse(input);
  if (!view.ok()) {
    return 0;
  }
  if (!quoted.ok() || view->header_len() + view->payload().size() != view->total_len()) {
    std::abort();
  }
  auto repr = Ipv4Repr::parse(*view, ChecksumCheck::Skip);
  if (!repr.ok()) {
    std::abort();  // nothing but the checksum can fail after the view
  }
  if (repr->buffer_len() != view->total_len()) {
    std::abort();
  }
  ByteVector out(repr->buffer_len());
  repr->emit(out);
  auto again = Ipv4View::parse(as_bytes(out));
  if (!again.ok() || !again->verify_checksum()) {
    std::abort();
  }
  auto reparsed = Ipv4Repr::parse(*again, ChecksumCheck::Verify);
  if (!reparsed.ok() || !(*reparsed == *repr)) {
    std::abort();
  }
  if (view->verify_checksum() && !same_up_to_zero_checksum(again->header(), view->header(), 10)) {
    std::abort();
  }
  return 0;
}
