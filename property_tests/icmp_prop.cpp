// Round trips for ICMP messages: parse(emit(r)) == r for arbitrary reprs of
// every kind, with the emitted checksum verifying.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "stack/wire/icmp.hpp"

namespace tapstack::wire {
namespace {

ByteVector gen_data() {
  const auto raw = *rc::gen::resize(600, rc::gen::arbitrary<std::vector<std::uint8_t>>());
  ByteVector out;
  for (std::uint8_t b : raw) {
    out.push_back(std::byte{b});
  }
  return out;
}

// The Repr's Bytes point into `data`, which the caller keeps alive.
IcmpRepr gen_repr(const ByteVector& data) {
  const Bytes bytes = as_bytes(data);
  const auto identifier = *rc::gen::arbitrary<std::uint16_t>();
  const auto sequence = *rc::gen::arbitrary<std::uint16_t>();
  switch (*rc::gen::inRange(0, 5)) {
    case 0:
      return IcmpRepr{IcmpEchoRequest{identifier, sequence, bytes}};
    case 1:
      return IcmpRepr{IcmpEchoReply{identifier, sequence, bytes}};
    case 2:
      return IcmpRepr{IcmpDestinationUnreachable{static_cast<IcmpUnreachableCode>(*rc::gen::arbitrary<std::uint8_t>()),
                                                 *rc::gen::arbitrary<std::uint16_t>(),
                                                 *rc::gen::arbitrary<std::uint16_t>(), bytes}};
    case 3:
      return IcmpRepr{IcmpTimeExceeded{static_cast<IcmpTimeExceededCode>(*rc::gen::arbitrary<std::uint8_t>()),
                                       *rc::gen::arbitrary<std::uint32_t>(), bytes}};
    default: {
      // Anything the structured kinds do not claim (see IcmpOther).
      const auto type = *rc::gen::suchThat<std::uint8_t>([](std::uint8_t t) { return t != 3 && t != 11; });
      const bool echo = type == 0 || type == 8;
      const auto code = echo ? *rc::gen::inRange<std::uint8_t>(1, 255) : *rc::gen::arbitrary<std::uint8_t>();
      return IcmpRepr{IcmpOther{static_cast<IcmpType>(type), code, *rc::gen::arbitrary<std::uint32_t>(), bytes}};
    }
  }
}

}  // namespace

RC_GTEST_PROP(IcmpProp, ParseOfEmitIsIdentity, ()) {
  const ByteVector data = gen_data();
  const IcmpRepr repr = gen_repr(data);
  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  repr.emit(out);
  auto view = IcmpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(view->verify_checksum());
  RC_ASSERT(view->type() == repr.type());
  RC_ASSERT(view->code() == repr.code());
  auto parsed = IcmpRepr::parse(*view, ChecksumCheck::Verify);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == repr);
  RC_ASSERT(parsed->message.index() == repr.message.index());
}

RC_GTEST_PROP(IcmpProp, AnyFlippedBitFailsTheChecksum, ()) {
  const ByteVector data = gen_data();
  const IcmpRepr repr = gen_repr(data);
  ByteVector out(repr.buffer_len());
  repr.emit(out);
  const auto bit = *rc::gen::inRange<std::size_t>(0, out.size() * 8);
  out[bit / 8] ^= std::byte{static_cast<std::uint8_t>(0x80 >> (bit % 8))};
  auto view = IcmpView::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  auto parsed = IcmpRepr::parse(*view, ChecksumCheck::Verify);
  RC_ASSERT(!parsed.ok());
  RC_ASSERT(parsed.error() == Error::BadChecksum);
}

}  // namespace tapstack::wire
