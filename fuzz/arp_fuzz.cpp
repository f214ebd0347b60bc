// ARP: any packet that parses re-emits to 28 bytes that parse to the same
// Repr and equal the input's first 28 bytes (every field is represented).
#include <algorithm>
#include <cstdlib>

#include "stack/wire/arp.hpp"

using namespace tapstack;
using namespace tapstack::wire;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes input(reinterpret_cast<const std::byte*>(data), size);
  auto view = ArpView::parse(input);
  if (!view.ok()) {
    return 0;
  }
  const ArpRepr repr = ArpRepr::parse(*view);
  ByteVector out(ArpRepr::buffer_len());
  repr.emit(out);
  auto again = ArpView::parse(as_bytes(out));
  if (!again.ok() || !(ArpRepr::parse(*again) == repr)) {
    std::abort();
  }
  if (!std::equal(out.begin(), out.end(), input.begin())) {
    std::abort();
  }
  return 0;
}
