// Ethernet: any frame that parses re-emits to a header that parses to the
// same Repr, and the payload is exactly what follows the header.
#include <cstdlib>

#include "stack/wire/ethernet.hpp"

using namespace tapstack;
using namespace tapstack::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  auto view = EthernetView::parse(input);
  if (!view.ok()) {
    return 0;
  }
  const EthernetRepr repr = EthernetRepr::parse(*view);
  if (view->header_len() + view->payload().size() != size) {
    std::abort();
  }
  ByteVector out(repr.header_len());
  repr.emit(out);
  auto again = EthernetView::parse(as_bytes(out));
  if (!again.ok() || !(EthernetRepr::parse(*again) == repr)) {
    std::abort();
  }
  return 0;
}
