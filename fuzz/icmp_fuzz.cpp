// ICMP: any message that parses re-emits to a message whose checksum verifies
// and that parses to the same Repr (same kind, same fields, same data); when
// the input's checksum was right, the re-emitted message equals the input
// (the checksum may differ only as 0x0000 against 0xffff: RFC 1624 3, the
// two zeros of ones' complement both verify).
// The quote of an error message goes through IcmpQuote::parse, which must
// fail cleanly or give at most 8 bytes from inside the quote.
#include <cstdlib>
#include <variant>

#include "fuzz/fuzz_support.hpp"
#include "stack/wire/icmp.hpp"

using namespace tapstack;
using namespace tapstack::wire;
using tapstack::fuzz::require;
using tapstack::fuzz::same_up_to_zero_checksum;

namespace {

Bytes quoted_datagram(const IcmpRepr& repr) {
  if (const auto* u = std::get_if<IcmpDestinationUnreachable>(&repr.message)) {
    return u->quoted;
  }
  if (const auto* t = std::get_if<IcmpTimeExceeded>(&repr.message)) {
    return t->quoted;
  }
  return {};
}

void check_quote(Bytes quoted) {
  auto quote = IcmpQuote::parse(quoted);
  if (!quote.ok()) {
    return;
  }
  const std::byte* begin = quoted.data();
  const std::byte* end = quoted.data() + quoted.size();
  const Bytes leading = quote->leading;
  if (leading.size() > 8) {
    std::abort();
  }
  if (!leading.empty() && (leading.data() < begin || leading.data() + leading.size() > end)) {
    std::abort();
  }
  if (quote->ports().has_value() && quote->leading.size() < 4) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  auto view = IcmpView::parse(input);
  if (!view.ok()) {
    return 0;
  }
  auto repr = IcmpRepr::parse(*view, ChecksumCheck::Skip);
  if (!repr.ok()) {
    std::abort();  // nothing but the checksum can fail after the view
  }
  if (repr->buffer_len() != size || repr->type() != view->type() || repr->code() != view->code()) {
    std::abort();
  }
  check_quote(quoted_datagram(*repr));
  ByteVector out(repr->buffer_len());
  repr->emit(out);
  auto again = IcmpView::parse(as_bytes(out));
  if (!again.ok() || !again->verify_checksum()) {
    std::abort();
  }
  auto reparsed = IcmpRepr::parse(*again, ChecksumCheck::Verify);
  if (!reparsed.ok() || !(*reparsed == *repr) || reparsed->message.index() != repr->message.index()) {
    std::abort();
  }
  if (view->verify_checksum() && !same_up_to_zero_checksum(as_bytes(out), input, 2)) {
    std::abort();
  }
  return 0;
}
