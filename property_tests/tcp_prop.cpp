// TCP: parse(emit(r)) == r for arbitrary reprs, random option lists
// included, and the emitted checksum verifies.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "property_tests/wire_generators.hpp"

#include <algorithm>
#include <vector>

#include "stack/wire/tcp.hpp"

namespace tapstack::wire {
namespace {

TcpRepr gen_repr() {
  TcpRepr repr;
  repr.source_port = *rc::gen::arbitrary<std::uint16_t>();
  repr.destination_port = *rc::gen::arbitrary<std::uint16_t>();
  repr.seq_number = *rc::gen::arbitrary<std::uint32_t>();
  repr.ack_number = *rc::gen::arbitrary<std::uint32_t>();
  repr.flags = TcpFlags(*rc::gen::inRange<std::uint16_t>(0, TcpFlags::kMask + 1));
  repr.reserved = *rc::gen::inRange<std::uint8_t>(0, 8);
  repr.window = *rc::gen::arbitrary<std::uint16_t>();
  repr.urgent_pointer = *rc::gen::arbitrary<std::uint16_t>();
  const auto count = *rc::gen::inRange(0, 10);
  for (int i = 0; i < count; ++i) {
    (void)repr.options.push(gen_tcp_option(8, 12));  // those that do not fit are left out
  }
  repr.options.pad();  // emit pads with zeros; padded options parse back equal
  return repr;
}

}  // namespace

RC_GTEST_PROP(TcpProp, ParseOfEmitIsIdentity, (std::uint32_t src, std::uint32_t dst)) {
  TcpRepr repr = gen_repr();
  const auto payload = *rc::gen::container<std::vector<std::uint8_t>>(
      *rc::gen::inRange<std::size_t>(0, 1500), rc::gen::arbitrary<std::uint8_t>());
  repr.payload_len = payload.size();
  const Ipv4Address source{src};
  const Ipv4Address destination{dst};

  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  std::ranges::transform(payload, out.begin() + static_cast<std::ptrdiff_t>(repr.header_len()),
                         [](std::uint8_t b) { return std::byte{b}; });
  repr.emit(out, source, destination);

  auto view = TcpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(view->header_len() == repr.header_len());
  RC_ASSERT(view->verify_checksum(source, destination));
  auto parsed = TcpRepr::parse(*view, source, destination, ChecksumCheck::Verify);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == repr);
  RC_ASSERT(std::ranges::equal(view->payload(), payload, {}, {}, [](std::uint8_t b) { return std::byte{b}; }));
}

RC_GTEST_PROP(TcpProp, EmitOfParseIsIdentityForEmittedSegments, (std::uint32_t src, std::uint32_t dst)) {
  // Bytes produced by emit are a fixed point of parse then emit.
  TcpRepr repr = gen_repr();
  repr.payload_len = *rc::gen::inRange<std::size_t>(0, 64);
  ByteVector first(repr.buffer_len(), std::byte{0x5a});
  repr.emit(first, Ipv4Address{src}, Ipv4Address{dst});
  auto view = TcpView::parse(as_bytes(first));
  RC_ASSERT(view.ok());
  auto parsed = TcpRepr::parse(*view, Ipv4Address{src}, Ipv4Address{dst}, ChecksumCheck::Verify);
  RC_ASSERT(parsed.ok());
  ByteVector second(parsed->buffer_len(), std::byte{0x5a});
  parsed->emit(second, Ipv4Address{src}, Ipv4Address{dst});
  RC_ASSERT(first == second);
}

}  // namespace tapstack::wire
