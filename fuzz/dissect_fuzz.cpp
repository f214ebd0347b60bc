// The frame dissector behind `tapstack decode`: any bytes at all must give a
// description without crashing, and a frame the dissector reads without a
// problem must also parse layer by layer without error.
#include <cstdlib>

#include "stack/wire/dissect.hpp"
#include "stack/wire/ethernet.hpp"

using namespace tapstack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes frame(reinterpret_cast<const std::byte*>(data), size);
  const wire::Dissection d = wire::dissect_frame(frame);
  if (d.layers.empty() || d.layers.front().name != "ethernet") {
    std::abort();  // every input is described, starting at the link layer
  }
  // The Ethernet layer is malformed exactly when the parser rejects it.
  if (d.layers.front().problem.empty() != wire::EthernetView::parse(frame).ok()) {
    std::abort();
  }
  return 0;
}
