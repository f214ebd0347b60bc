// TCP: parse(emit(r)) == r for arbitrary reprs, random option lists
// included, and the emitted checksum verifies.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "stack/wire/tcp.hpp"

namespace tapstack::wire {
namespace {

TcpOptionBytes gen_option_bytes(std::size_t max_len) {
  const auto len = *rc::gen::inRange<std::size_t>(0, max_len + 1);
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(len, rc::gen::arbitrary<std::uint8_t>());
  TcpOptionBytes out;
  for (std::uint8_t b : raw) {
    const std::byte one{b};
    (void)out.append(Bytes{&one, 1});
  }
  return out;
}

TcpOption gen_option() {
  switch (*rc::gen::inRange(0, 8)) {
    case 0:
      return tcp_option::End{gen_option_bytes(8)};
    case 1:
      return tcp_option::Nop{};
    case 2:
      return tcp_option::Mss{*rc::gen::arbitrary<std::uint16_t>()};
    case 3:
      return tcp_option::WindowScale{*rc::gen::arbitrary<std::uint8_t>()};
    case 4:
      return tcp_option::SackPermitted{};
    case 5: {
      tcp_option::Sack sack;
      const auto n = *rc::gen::inRange<std::size_t>(1, SackBlocks::kMax + 1);
      for (std::size_t i = 0; i < n; ++i) {
        RC_ASSERT(sack.blocks.push_back(
            SackBlock{*rc::gen::arbitrary<std::uint32_t>(), *rc::gen::arbitrary<std::uint32_t>()}));
      }
      return sack;
    }
    case 6:
      return tcp_option::Timestamps{*rc::gen::arbitrary<std::uint32_t>(), *rc::gen::arbitrary<std::uint32_t>()};
    default: {
      const auto kind = *rc::gen::suchThat<std::uint8_t>([](std::uint8_t k) { return !is_known_tcp_option_kind(k); });
      return tcp_option::Unknown{kind, gen_option_bytes(12)};
    }
  }
}

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
    (void)repr.options.push(gen_option());  // those that do not fit are left out
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
