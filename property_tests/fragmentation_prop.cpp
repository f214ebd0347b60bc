// Fragmentation and reassembly together: any datagram, fragmented for any MTU
// and delivered in any order with any duplicates, reassembles to exactly the
// original header and payload. Also the shape of the fragments (RFC 791 3.2).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "stack/base/rng.hpp"
#include "stack/ip/fragmentation.hpp"
#include "stack/ip/reassembly.hpp"

namespace tapstack::ip {
namespace {

using wire::Ipv4Repr;

struct Fragment {
  Ipv4Repr header;
  ByteVector bytes;  // the whole IPv4 fragment
};

// An unfragmented datagram's header with every field arbitrary (DF clear:
// it is going to be fragmented), options of any bytes.
Ipv4Repr gen_header() {
  Ipv4Repr h;
  h.dscp = *rc::gen::inRange<std::uint8_t>(0, 64);
  h.ecn = *rc::gen::inRange<std::uint8_t>(0, 4);
  h.identification = *rc::gen::arbitrary<std::uint16_t>();
  h.reserved_flag = *rc::gen::arbitrary<bool>();
  h.ttl = *rc::gen::arbitrary<std::uint8_t>();
  h.protocol = static_cast<wire::IpProtocol>(*rc::gen::arbitrary<std::uint8_t>());
  h.source.value = *rc::gen::arbitrary<std::uint32_t>();
  h.destination.value = *rc::gen::arbitrary<std::uint32_t>();
  const auto words = *rc::gen::inRange<std::size_t>(0, 11);
  const auto raw = *rc::gen::container<std::vector<std::uint8_t>>(words * 4, rc::gen::arbitrary<std::uint8_t>());
  ByteVector options;
  for (std::uint8_t b : raw) {
    options.push_back(std::byte{b});
  }
  h.options = *wire::Ipv4Options::from_bytes(as_bytes(options));
  return h;
}

// Mostly small payloads, sometimes up to the 65535-byte datagram; the bytes
// come from a seeded Rng (fast for 64 KiB).
ByteVector gen_payload(std::size_t header_len) {
  const bool big = *rc::gen::inRange(0, 8) == 0;
  const std::size_t max = big ? wire::Ipv4View::kMaxTotalLen - header_len : 12000;
  const auto size = *rc::gen::inRange<std::size_t>(0, max + 1);
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  ByteVector out(size);
  for (auto& b : out) {
    b = static_cast<std::byte>(rng.next_u32() & 0xff);
  }
  return out;
}

// RFC 791's minimum of 68 up to jumbo frames, mostly Ethernet-like sizes.
std::size_t gen_mtu() {
  if (*rc::gen::inRange(0, 4) == 0) {
    return *rc::gen::inRange<std::size_t>(68, 9001);
  }
  return *rc::gen::inRange<std::size_t>(68, 1501);
}

std::vector<Fragment> split(const Ipv4Repr& header, const ByteVector& payload, std::size_t mtu) {
  std::vector<Fragment> out;
  const bool ok = fragment_datagram(header, as_bytes(payload), mtu, [&](const Ipv4Repr& h, Bytes slice) {
    ByteVector bytes(h.header_len() + slice.size());
    h.emit(bytes);
    std::copy(slice.begin(), slice.end(), bytes.begin() + static_cast<std::ptrdiff_t>(h.header_len()));
    out.push_back(Fragment{h, std::move(bytes)});
  });
  RC_ASSERT(ok);
  return out;
}

RC_GTEST_PROP(Fragmentation, FragmentsHaveTheRightShape, ()) {
  const Ipv4Repr header = gen_header();
  const ByteVector payload = gen_payload(header.header_len());
  const auto mtu = gen_mtu();
  const std::vector<Fragment> fragments = split(header, payload, mtu);
  RC_ASSERT(!fragments.empty());
  std::size_t at = 0;
  for (std::size_t i = 0; i < fragments.size(); ++i) {
    const Ipv4Repr& h = fragments[i].header;
    const bool last = i + 1 == fragments.size();
    RC_ASSERT(h.buffer_len() <= mtu || fragments.size() == 1);
    RC_ASSERT(h.fragment_offset == at);
    RC_ASSERT(h.more_fragments == !last);
    RC_ASSERT(h.identification == header.identification);
    RC_ASSERT(h.source == header.source);
    RC_ASSERT(h.destination == header.destination);
    RC_ASSERT(h.protocol == header.protocol);
    if (!last) {
      RC_ASSERT(h.payload_len % 8 == 0);
      RC_ASSERT(h.buffer_len() + 8 > mtu);  // as much as fits
    }
    const wire::Ipv4Options expected_options =
        i == 0 ? header.options : options_copied_on_fragmentation(header.options);
    RC_ASSERT(h.options == expected_options);
    RC_ASSERT(std::equal(fragments[i].bytes.begin() + static_cast<std::ptrdiff_t>(h.header_len()),
                         fragments[i].bytes.end(), payload.begin() + static_cast<std::ptrdiff_t>(at)));
    at += h.payload_len;
  }
  RC_ASSERT(at == payload.size());
  if (header.header_len() + payload.size() <= mtu) {
    RC_ASSERT(fragments.size() == 1u);
  }
}

RC_GTEST_PROP(Fragmentation, ReassemblesInAnyOrderWithDuplicates, ()) {
  const Ipv4Repr header = gen_header();
  const ByteVector payload = gen_payload(header.header_len());
  const auto mtu = gen_mtu();
  const std::vector<Fragment> fragments = split(header, payload, mtu);
  const std::size_t n = fragments.size();

  // Every fragment once, plus random duplicates, in a random order.
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    order[i] = i;
  }
  const auto duplicates = *rc::gen::inRange<std::size_t>(0, n + 1);
  for (std::size_t i = 0; i < duplicates; ++i) {
    order.push_back(*rc::gen::inRange<std::size_t>(0, n));
  }
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  for (std::size_t i = order.size() - 1; i > 0; --i) {
    std::swap(order[i], order[rng.below(i + 1)]);
  }

  Ipv4Repr expected = header;
  expected.payload_len = static_cast<std::uint16_t>(payload.size());
  Reassembler reassembler{ReassemblyLimits{}};
  std::vector<bool> seen(n, false);
  std::size_t distinct = 0;
  std::size_t results = 0;
  for (std::size_t index : order) {
    if (!seen[index]) {
      seen[index] = true;
      ++distinct;
    }
    auto view = wire::Ipv4View::parse(as_bytes(fragments[index].bytes));
    RC_ASSERT(view.ok());
    auto result = reassembler.add(*view, Instant::epoch());
    RC_ASSERT(reassembler.bytes_held() <= ReassemblyLimits{}.total_bytes_max);
    if (!result.has_value()) {
      // Not before every fragment has arrived, and never once it did (a late
      // duplicate only starts a new reassembly).
      RC_ASSERT(n > 1);
      RC_ASSERT(distinct < n || results > 0);
      continue;
    }
    // The first result comes exactly with the last missing fragment.
    RC_ASSERT(distinct == n);
    RC_ASSERT(result->header == expected);
    RC_ASSERT(result->payload == payload);
    ++results;
  }
  RC_ASSERT(results >= 1u);
  RC_CLASSIFY(n == 1, "unfragmented");
  RC_CLASSIFY(n > 100, "over 100 fragments");
  RC_CLASSIFY(payload.size() > 30000, "over 30000 bytes");
  RC_ASSERT(reassembler.counters().dropped_conflicts == 0u);
}

}  // namespace
}  // namespace tapstack::ip
