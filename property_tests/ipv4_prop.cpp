// Round trips for IPv4 headers: parse(emit(r)) == r for arbitrary valid
// reprs, with the emitted checksum verifying.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "stack/wire/icmp.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack::wire {
namespace {

ByteVector to_bytes(const std::vector<std::uint8_t>& v) {
  ByteVector out;
  for (std::uint8_t b : v) {
    out.push_back(std::byte{b});
  }
  return out;
}

// A valid Repr (see Ipv4Repr): every field in range, lengths that fit.
Ipv4Repr gen_repr() {
  Ipv4Repr repr;
  repr.dscp = *rc::gen::inRange<std::uint8_t>(0, 64);
  repr.ecn = *rc::gen::inRange<std::uint8_t>(0, 4);
  repr.identification = *rc::gen::arbitrary<std::uint16_t>();
  repr.reserved_flag = *rc::gen::arbitrary<bool>();
  repr.dont_fragment = *rc::gen::arbitrary<bool>();
  repr.more_fragments = *rc::gen::arbitrary<bool>();
  repr.ttl = *rc::gen::arbitrary<std::uint8_t>();
  repr.protocol = static_cast<IpProtocol>(*rc::gen::arbitrary<std::uint8_t>());
  repr.source.value = *rc::gen::arbitrary<std::uint32_t>();
  repr.destination.value = *rc::gen::arbitrary<std::uint32_t>();
  const auto words = *rc::gen::inRange<std::size_t>(0, 11);
  const ByteVector options =
      to_bytes(*rc::gen::container<std::vector<std::uint8_t>>(words * 4, rc::gen::arbitrary<std::uint8_t>()));
  repr.options = *Ipv4Options::from_bytes(as_bytes(options));
  // Mostly small payloads, sometimes up to the 65535-byte limit.
  const std::size_t max_payload = Ipv4View::kMaxTotalLen - repr.header_len();
  repr.payload_len = *rc::gen::oneOf(rc::gen::inRange<std::uint16_t>(0, 1500),
                                     rc::gen::inRange<std::uint16_t>(0, static_cast<std::uint16_t>(max_payload + 1)));
  const std::size_t max_units = (Ipv4View::kMaxTotalLen - repr.payload_len) / 8;
  repr.fragment_offset = static_cast<std::uint16_t>(8 * *rc::gen::inRange<std::size_t>(0, max_units + 1));
  return repr;
}

}  // namespace

RC_GTEST_PROP(Ipv4Prop, ParseOfEmitIsIdentity, ()) {
  const Ipv4Repr repr = gen_repr();
  ByteVector out(repr.buffer_len(), std::byte{0xa5});
  repr.emit(out);
  auto view = Ipv4View::parse(as_bytes(out));
  RC_ASSERT(view.ok());
  RC_ASSERT(view->verify_checksum());
  RC_ASSERT(view->payload().size() == repr.payload_len);
  auto parsed = Ipv4Repr::parse(*view, ChecksumCheck::Verify);
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == repr);
}

RC_GTEST_PROP(Ipv4Prop, AnyFlippedHeaderBitFailsTheChecksum, ()) {
  const Ipv4Repr repr = gen_repr();
  ByteVector out(repr.buffer_len());
  repr.emit(out);
  // Flip one bit outside the length fields, so that the view still parses.
  const auto bit = *rc::gen::suchThat(rc::gen::inRange<std::size_t>(0, repr.header_len() * 8), [](std::size_t b) {
    return b / 8 >= 4;  // not version/IHL, TOS or total length
  });
  out[bit / 8] ^= std::byte{static_cast<std::uint8_t>(0x80 >> (bit % 8))};
  auto view = Ipv4View::parse(as_bytes(out));
  if (!view.ok()) {
    RC_ASSERT(view.error() == Error::BadFragment);  // the offset field changed
    return;
  }
  auto parsed = Ipv4Repr::parse(*view, ChecksumCheck::Verify);
  RC_ASSERT(!parsed.ok());
  RC_ASSERT(parsed.error() == Error::BadChecksum);
}

// An ICMP error quotes the header and the first 8 payload bytes (RFC 792):
// the quote parses back to the same header, however long the datagram was.
RC_GTEST_PROP(Ipv4Prop, QuotedHeaderParsesBack, ()) {
  const Ipv4Repr repr = gen_repr();
  const std::size_t quoted_payload = std::min<std::size_t>(repr.payload_len, 8);
  ByteVector quote(repr.header_len() + quoted_payload, std::byte{0x11});
  repr.emit(quote);
  auto parsed = IcmpQuote::parse(as_bytes(quote));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed->header == repr);
  RC_ASSERT(parsed->leading.size() == quoted_payload);
  // Cut shorter than the header, the quote is an error, never a read past it.
  const auto cut = *rc::gen::inRange<std::size_t>(0, repr.header_len());
  auto short_quote = IcmpQuote::parse(as_bytes(quote).first(cut));
  RC_ASSERT(!short_quote.ok());
  RC_ASSERT(short_quote.error() == (cut < Ipv4View::kMinHeaderLen ? Error::Truncated : Error::BadHeaderLength));
}

}  // namespace tapstack::wire
