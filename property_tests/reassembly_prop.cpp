// Reassembly under random fragment streams: the limits hold after every call,
// every result is well formed, and when all fragments of a datagram agree on
// its bytes (however they overlap and in whatever order they come) a result
// is exactly those bytes.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "stack/ip/reassembly.hpp"

namespace tapstack::ip {
namespace {

using wire::Ipv4Repr;

// The byte every fragment of datagram `id` carries at payload offset `at`.
std::byte truth(std::uint16_t id, std::size_t at) {
  return static_cast<std::byte>((id * 31 + at * 7 + (at >> 8)) & 0xff);
}

struct FragmentSpec {
  std::uint16_t id = 0;
  std::size_t offset = 0;  // a multiple of 8
  std::size_t len = 0;
  bool more = false;
  bool corrupt = false;  // one byte differs from truth()
  bool with_options = false;
};

ByteVector build(const FragmentSpec& f) {
  Ipv4Repr h;
  h.identification = f.id;
  h.more_fragments = f.more;
  h.fragment_offset = static_cast<std::uint16_t>(f.offset);
  h.protocol = wire::IpProtocol::Udp;
  h.source = wire::Ipv4Address::from_octets(192, 168, 1, 2);
  h.destination = wire::Ipv4Address::from_octets(192, 168, 1, 1);
  h.payload_len = static_cast<std::uint16_t>(f.len);
  if (f.with_options) {
    const ByteVector options{std::byte{0x94}, std::byte{0x04}, std::byte{0}, std::byte{0}};
    h.options = *wire::Ipv4Options::from_bytes(as_bytes(options));
  }
  ByteVector out(h.header_len() + f.len);
  h.emit(out);
  for (std::size_t i = 0; i < f.len; ++i) {
    out[h.header_len() + i] = truth(f.id, f.offset + i);
  }
  if (f.corrupt && f.len > 0) {
    out[h.header_len()] ^= std::byte{0x5a};
  }
  return out;
}

ReassemblyLimits gen_limits() {
  ReassemblyLimits limits;
  limits.timeout = Duration::milliseconds(*rc::gen::inRange<std::int64_t>(1, 2000));
  limits.datagrams_max = *rc::gen::inRange<std::size_t>(1, 6);
  limits.datagram_bytes_max = *rc::gen::inRange<std::size_t>(576, 65536);
  limits.total_bytes_max = *rc::gen::inRange<std::size_t>(0, 40'000);
  return limits;
}

// Each datagram id has a payload length fixed for the run.
std::vector<std::size_t> gen_lengths() {
  std::vector<std::size_t> lengths;
  for (int id = 0; id < 3; ++id) {
    lengths.push_back(*rc::gen::inRange<std::size_t>(1, 3000));
  }
  return lengths;
}

// A fragment of datagram `id` that agrees with its length: an aligned offset
// inside it, a length of whole units, MF clear only on the piece that ends it.
FragmentSpec gen_consistent_fragment(const std::vector<std::size_t>& lengths) {
  FragmentSpec f;
  f.id = *rc::gen::inRange<std::uint16_t>(0, static_cast<std::uint16_t>(lengths.size()));
  const std::size_t total = lengths[f.id];
  f.offset = *rc::gen::inRange<std::size_t>(0, (total + 7) / 8) * 8;
  f.len = *rc::gen::inRange<std::size_t>(1, 64) * 8;
  if (f.offset + f.len >= total) {
    f.len = total - f.offset;
    f.more = false;
  } else {
    f.more = true;
  }
  f.with_options = f.offset == 0 && *rc::gen::inRange(0, 4) == 0;
  return f;
}

// Anything: offsets anywhere in a small range (so they meet the others),
// MF at random, sometimes a length that is not whole units, sometimes a
// corrupt byte.
FragmentSpec gen_wild_fragment() {
  FragmentSpec f;
  f.id = *rc::gen::inRange<std::uint16_t>(0, 4);
  f.offset = *rc::gen::inRange<std::size_t>(0, 512) * 8;
  f.more = *rc::gen::inRange(0, 4) != 0;
  f.len = *rc::gen::inRange<std::size_t>(0, 130) * 8;
  if (*rc::gen::inRange(0, 10) == 0) {
    f.len += *rc::gen::inRange<std::size_t>(1, 8);
  }
  f.corrupt = *rc::gen::inRange(0, 4) == 0;
  f.with_options = f.offset == 0 && *rc::gen::inRange(0, 4) == 0;
  return f;
}

void check_result(const ReassembledDatagram& d, const ReassemblyLimits& limits) {
  RC_ASSERT(d.payload.size() == d.header.payload_len);
  RC_ASSERT(d.header.buffer_len() <= std::min<std::size_t>(limits.datagram_bytes_max, 65535));
  RC_ASSERT(d.header.fragment_offset == 0u);
  RC_ASSERT(!d.header.more_fragments);
}

RC_GTEST_PROP(Reassembly, LimitsHoldForRandomFragmentStreams, ()) {
  const ReassemblyLimits limits = gen_limits();
  const std::vector<std::size_t> lengths = gen_lengths();
  Reassembler r{limits};
  Instant now = Instant::epoch();
  const auto steps = *rc::gen::inRange(1, 200);
  for (int i = 0; i < steps; ++i) {
    if (*rc::gen::inRange(0, 10) == 0) {
      now += Duration::milliseconds(*rc::gen::inRange<std::int64_t>(0, 1000));
      r.poll(now, [&](const ExpiredDatagram& e) {
        RC_ASSERT(e.first_bytes.size() <= Reassembler::kFirstBytesMax);
        RC_ASSERT(e.had_first_fragment || e.first_bytes.empty());
      });
      RC_ASSERT(r.next_deadline() > now);
    } else {
      const bool wild = *rc::gen::inRange(0, 5) == 0;
      const ByteVector bytes = build(wild ? gen_wild_fragment() : gen_consistent_fragment(lengths));
      auto view = wire::Ipv4View::parse(as_bytes(bytes));
      RC_ASSERT(view.ok());
      if (auto result = r.add(*view, now)) {
        check_result(*result, limits);
      }
    }
    RC_ASSERT(r.bytes_held() <= limits.total_bytes_max);
    RC_ASSERT(r.datagrams_held() <= limits.datagrams_max);
  }
  const ReassemblyCounters c0 = r.counters();
  // Everything goes at the timeout.
  r.poll(now + limits.timeout, nullptr);
  RC_ASSERT(r.datagrams_held() == 0u);
  RC_ASSERT(r.bytes_held() == 0u);
  RC_CLASSIFY(c0.dropped_total_memory > 0, "total memory hit");
  RC_CLASSIFY(c0.dropped_too_many_datagrams > 0, "datagrams_max hit");
  RC_CLASSIFY(c0.dropped_datagram_too_big > 0, "datagram size hit");
  RC_CLASSIFY(c0.dropped_conflicts > 0, "conflict");
  RC_CLASSIFY(c0.datagrams_reassembled > 0, "reassembled");
  RC_CLASSIFY(c0.timeouts > 0, "timeout");
  // Every fragment is accounted for by a counter.
  const ReassemblyCounters& c = r.counters();
  RC_ASSERT(c.fragments_received >= c.datagrams_reassembled + c.duplicates + c.bad_fragments +
                                        c.dropped_conflicts + c.dropped_datagram_too_big + c.dropped_total_memory +
                                        c.dropped_too_many_datagrams);
}

// When every fragment agrees with truth() and with its datagram's length,
// whatever the order and overlaps, nothing conflicts and every result is
// truth() byte for byte.
RC_GTEST_PROP(Reassembly, ConsistentFragmentsGiveTheTrueBytes, ()) {
  ReassemblyLimits limits;  // defaults: nothing is dropped for memory
  const std::vector<std::size_t> lengths = gen_lengths();
  Reassembler r{limits};
  const auto steps = *rc::gen::inRange(1, 300);
  for (int i = 0; i < steps; ++i) {
    const FragmentSpec f = gen_consistent_fragment(lengths);
    const ByteVector bytes = build(f);
    auto view = wire::Ipv4View::parse(as_bytes(bytes));
    RC_ASSERT(view.ok());
    if (auto result = r.add(*view, Instant::epoch())) {
      check_result(*result, limits);
      RC_ASSERT(result->payload.size() == lengths[f.id]);
      for (std::size_t at = 0; at < result->payload.size(); ++at) {
        RC_ASSERT(result->payload[at] == truth(f.id, at));
      }
    }
    RC_ASSERT(r.bytes_held() <= limits.total_bytes_max);
  }
  RC_ASSERT(r.counters().dropped_total_memory == 0u);
  RC_ASSERT(r.counters().dropped_too_many_datagrams == 0u);
  RC_ASSERT(r.counters().dropped_conflicts == 0u);
  RC_CLASSIFY(r.counters().datagrams_reassembled > 0, "reassembled");
  RC_CLASSIFY(r.counters().overlaps > 0, "overlaps");
}

// A datagram cut into pieces at random 8-byte boundaries, plus random extra
// pieces overlapping them, delivered in a random order: it completes exactly
// when its bytes are all there, with the right bytes.
RC_GTEST_PROP(Reassembly, OverlappingCoverCompletesOnce, ()) {
  const auto units = *rc::gen::inRange<std::size_t>(1, 200);
  const auto tail = *rc::gen::inRange<std::size_t>(1, 9);
  const std::size_t total = (units - 1) * 8 + tail;  // the last fragment may be short
  std::vector<FragmentSpec> pieces;
  // A partition into runs of whole units.
  std::size_t at = 0;
  while (at < total) {
    const std::size_t len = std::min(total - at, *rc::gen::inRange<std::size_t>(1, 20) * 8);
    pieces.push_back(FragmentSpec{7, at, len, at + len < total, false, false});
    at += len;
  }
  // Extra pieces anywhere inside, consistent with the datagram's end.
  const auto extra = *rc::gen::inRange<std::size_t>(0, 10);
  for (std::size_t i = 0; i < extra; ++i) {
    const std::size_t from = *rc::gen::inRange<std::size_t>(0, units) * 8;
    const std::size_t to = std::min(total, from + *rc::gen::inRange<std::size_t>(1, 20) * 8);
    if (to < total && (to - from) % 8 != 0) {
      continue;
    }
    pieces.push_back(FragmentSpec{7, from, to - from, to < total, false, false});
  }
  std::vector<std::size_t> perm(pieces.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    perm[i] = i;
  }
  for (std::size_t i = perm.size() - 1; i > 0; --i) {
    std::swap(perm[i], perm[*rc::gen::inRange<std::size_t>(0, i + 1)]);
  }

  Reassembler r{ReassemblyLimits{}};
  std::vector<bool> covered(total, false);
  std::size_t covered_count = 0;
  bool done = false;
  for (std::size_t index : perm) {
    const FragmentSpec& f = pieces[index];
    const ByteVector bytes = build(f);
    auto view = wire::Ipv4View::parse(as_bytes(bytes));
    RC_ASSERT(view.ok());
    auto result = r.add(*view, Instant::epoch());
    if (done) {
      continue;  // later pieces start a new reassembly
    }
    for (std::size_t i = f.offset; i < f.offset + f.len; ++i) {
      if (!covered[i]) {
        covered[i] = true;
        ++covered_count;
      }
    }
    RC_ASSERT(result.has_value() == (covered_count == total));
    if (result.has_value()) {
      done = true;
      RC_ASSERT(result->payload.size() == total);
      for (std::size_t i = 0; i < total; ++i) {
        RC_ASSERT(result->payload[i] == truth(7, i));
      }
    }
  }
  RC_ASSERT(done);
  RC_ASSERT(r.counters().dropped_conflicts == 0u);
}

}  // namespace
}  // namespace tapstack::ip
