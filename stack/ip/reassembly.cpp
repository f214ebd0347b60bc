#include "stack/ip/reassembly.hpp"

#include <algorithm>
#include <cstdlib>
#include <tuple>
#include <utility>
#include <vector>

namespace tapstack::ip {

namespace {

// RFC 791 3.1 "Fragment Offset": measured in units of 8 octets, so every
// fragment but the last carries a multiple of 8 payload bytes.
constexpr std::size_t kFragmentUnit = 8;
// RFC 792: the quote is the IP header plus "64 bits of Data Datagram".
constexpr std::size_t kQuotedPayloadLen = 8;

// A hole descriptor (RFC 815 section 4), in the first 4 bytes of its hole:
// the hole's end (exclusive) and the offset of the next hole, big-endian.
namespace descriptor {
constexpr std::size_t kEnd = 0;
constexpr std::size_t kNext = 2;
}  // namespace descriptor

}  // namespace

namespace {

std::uint32_t hole_end(const ByteVector& data, std::uint32_t hole) {
  return load_be16(as_bytes(data), hole + descriptor::kEnd);
}

// The next hole after `hole`. Holes are kept in increasing order, which also
// bounds every walk over the list: a descriptor that does not point forward
// can only be a bug here, not input.
std::uint32_t hole_next(const ByteVector& data, std::uint32_t hole, std::uint32_t no_hole) {
  const std::uint32_t next = load_be16(as_bytes(data), hole + descriptor::kNext);
  if (next != no_hole && next <= hole) {
    std::abort();
  }
  return next;
}

void write_hole(ByteVector& data, std::uint32_t hole, std::uint32_t end, std::uint32_t next) {
  store_be16(MutableBytes{data}, hole + descriptor::kEnd, static_cast<std::uint16_t>(end));
  store_be16(MutableBytes{data}, hole + descriptor::kNext, static_cast<std::uint16_t>(next));
}

}  // namespace

Reassembler::Reassembler(const ReassemblyLimits& limits) : limits_(limits) {}

std::optional<ReassembledDatagram> Reassembler::add(const wire::Ipv4View& fragment, Instant now) {
  const bool more = fragment.more_fragments();
  const std::uint32_t first = fragment.fragment_offset();
  const Bytes payload = fragment.payload();
  // Skip: the IPv4 input has verified the checksum; nothing else can fail.
  auto header = wire::Ipv4Repr::parse(fragment, wire::ChecksumCheck::Skip);
  if (!more && first == 0) {
    if (!header.ok()) {
      return std::nullopt;
    }
    return ReassembledDatagram{*header, ByteVector(payload.begin(), payload.end())};
  }
  ++counters_.fragments_received;
  if (!header.ok() || payload.empty() || (more && payload.size() % kFragmentUnit != 0)) {
    ++counters_.bad_fragments;
    return std::nullopt;
  }
  const auto end = static_cast<std::uint32_t>(first + payload.size());
  const Key key{fragment.source(), fragment.destination(), static_cast<std::uint8_t>(fragment.protocol()),
                fragment.identification()};
  auto it = datagrams_.find(key);
  const bool held = it != datagrams_.end();

  // RFC 1122 3.3.2 EMTU_R, and RFC 791's 16-bit total length: the header of
  // the result is the first fragment's, 20 bytes until it is known.
  std::size_t header_len = wire::Ipv4View::kMinHeaderLen;
  if (held && it->second.have_first) {
    header_len = it->second.first_header.header_len();
  } else if (first == 0) {
    header_len = fragment.header_len();
  }
  const std::size_t size_max = std::min(limits_.datagram_bytes_max, wire::Ipv4View::kMaxTotalLen);
  const std::uint32_t extent = held ? it->second.extent : 0;
  if (header_len + std::max(extent, end) > size_max) {
    ++counters_.dropped_datagram_too_big;
    if (held) {
      drop(it);
    }
    return std::nullopt;
  }

  if (!held) {
    if (datagrams_.size() >= limits_.datagrams_max) {
      ++counters_.dropped_too_many_datagrams;
      return std::nullopt;
    }
    Datagram fresh;
    fresh.sequence = next_sequence_++;
    // RFC 1122 3.3.2: the timer starts with the first fragment to arrive.
    fresh.deadline = now + limits_.timeout;
    it = datagrams_.emplace(key, std::move(fresh)).first;
  }
  Datagram& d = it->second;

  switch (examine(d, payload, first, more)) {
    case Verdict::Conflict:
      ++counters_.dropped_conflicts;
      drop(it);
      return std::nullopt;
    case Verdict::Duplicate:
      ++counters_.duplicates;
      return std::nullopt;
    case Verdict::AcceptOverlapping:
      ++counters_.overlaps;
      break;
    case Verdict::Accept:
      break;
  }

  const bool save_first = first == 0 && !d.have_first;
  const std::size_t first_len = save_first ? fragment.header_len() + std::min(payload.size(), kQuotedPayloadLen) : 0;
  if (!reserve(d, end, d.end_known || !more, header_len, first_len)) {
    ++counters_.dropped_total_memory;
    drop(it);
    return std::nullopt;
  }
  if (save_first) {
    // RFC 815 section 6: the first fragment's header (its options are the
    // complete set) is the datagram's.
    d.have_first = true;
    d.first_header = *header;
    const Bytes quote = fragment.bytes().first(first_len);
    std::copy(quote.begin(), quote.end(), d.first_bytes.begin());
    d.first_len = static_cast<std::uint8_t>(first_len);
    bytes_held_ += first_len;
  }
  fill(d, payload, first, more);

  // RFC 815 step 8: no hole left (and the end known) means complete.
  if (!d.end_known || d.first_hole != kNoHole) {
    return std::nullopt;
  }
  ReassembledDatagram out;
  out.header = d.first_header;
  out.header.more_fragments = false;
  out.header.fragment_offset = 0;
  out.header.payload_len = static_cast<std::uint16_t>(d.extent);
  bytes_held_ -= d.charge();
  out.payload = std::move(d.data);
  out.payload.resize(d.extent);
  datagrams_.erase(it);
  ++counters_.datagrams_reassembled;
  return out;
}

Reassembler::Verdict Reassembler::examine(const Datagram& d, Bytes payload, std::uint32_t first, bool more) {
  const auto end = static_cast<std::uint32_t>(first + payload.size());
  // The end of the datagram must be the same in every fragment's view.
  if (d.end_known) {
    if (end > d.extent || (more && end == d.extent) || (!more && end != d.extent)) {
      return Verdict::Conflict;
    }
  } else if (!more && end <= d.extent) {
    // Bytes were received up to extent, and a fragment with MF set ended
    // there: this "last" fragment contradicts them.
    return Verdict::Conflict;
  }

  bool overlapped = false;
  std::size_t new_bytes = 0;
  // Compares the fragment with the received bytes [from, to).
  auto agrees_with = [&](std::uint32_t from, std::uint32_t to) {
    const std::uint32_t lo = std::max(from, first);
    const std::uint32_t hi = std::min(to, end);
    if (lo >= hi) {
      return true;
    }
    overlapped = true;
    return std::equal(payload.begin() + (lo - first), payload.begin() + (hi - first), d.data.begin() + lo);
  };
  std::uint32_t received_from = 0;
  for (std::uint32_t hole = d.first_hole; hole != kNoHole && received_from < end;
       hole = hole_next(d.data, hole, kNoHole)) {
    const std::uint32_t hole_to = hole_end(d.data, hole);
    if (!agrees_with(received_from, hole)) {
      return Verdict::Conflict;
    }
    const std::uint32_t lo = std::max(hole, first);
    const std::uint32_t hi = std::min(hole_to, end);
    new_bytes += lo < hi ? hi - lo : 0;
    received_from = hole_to;
  }
  if (!agrees_with(received_from, d.extent)) {
    return Verdict::Conflict;
  }
  if (!d.end_known && end > d.extent) {
    new_bytes += end - std::max(first, d.extent);
  }
  if (new_bytes == 0) {
    return Verdict::Duplicate;
  }
  return overlapped ? Verdict::AcceptOverlapping : Verdict::Accept;
}

void Reassembler::fill(Datagram& d, Bytes payload, std::uint32_t first, bool more) {
  const auto end = static_cast<std::uint32_t>(first + payload.size());
  auto copy = [&](std::uint32_t from, std::uint32_t to) {
    std::copy(payload.begin() + (from - first), payload.begin() + (to - first), d.data.begin() + from);
  };
  auto set_next = [&](std::uint32_t hole, std::uint32_t next) {
    if (hole == kNoHole) {
      d.first_hole = next;
    } else {
      store_be16(MutableBytes{d.data}, hole + descriptor::kNext, static_cast<std::uint16_t>(next));
    }
  };

  // RFC 815 section 3, steps 1-7, over the finite holes. `last` ends as the
  // last hole of the list (all finite holes lie below extent).
  std::uint32_t last = kNoHole;
  std::uint32_t hole = d.first_hole;
  while (hole != kNoHole) {
    const std::uint32_t hole_to = hole_end(d.data, hole);
    const std::uint32_t next = hole_next(d.data, hole, kNoHole);
    if (hole_to <= first) {  // step 2
      last = hole;
      hole = next;
      continue;
    }
    if (hole >= end) {  // step 3; no later hole can meet the fragment either
      break;
    }
    // Step 4: delete this hole; steps 5 and 6: the pieces the fragment leaves
    // of it (each at least 8 bytes: both ends are fragment boundaries, which
    // are multiples of 8 except the datagram's end, past which no hole lies).
    // The descriptors are read and written before the data is copied over
    // the old one (the RFC 815 section 4 pitfall).
    std::uint32_t link = last;
    if (first > hole) {
      write_hole(d.data, hole, first, kNoHole);
      set_next(link, hole);
      link = hole;
    }
    if (end < hole_to) {
      write_hole(d.data, end, hole_to, kNoHole);
      set_next(link, end);
      link = end;
    }
    set_next(link, next);
    copy(std::max(first, hole), std::min(end, hole_to));
    last = link;
    hole = next;
  }

  // The open hole [extent, infinity) while the end is unknown.
  if (!d.end_known && end > d.extent) {
    if (first > d.extent) {
      write_hole(d.data, d.extent, first, kNoHole);
      set_next(last, d.extent);
    }
    copy(std::max(first, d.extent), end);
    d.extent = end;
  }
  if (!more) {
    d.end_known = true;  // examine() made extent == end
  }
}

bool Reassembler::reserve(Datagram& d, std::uint32_t end, bool end_final, std::size_t header_len,
                          std::size_t extra_charge) {
  const std::size_t others = bytes_held_ - d.charge();
  auto fits = [&](std::size_t buffer) {
    return others + buffer + d.first_len + extra_charge <= limits_.total_bytes_max;
  };
  if (end <= d.data.size()) {
    return fits(d.data.capacity());
  }
  // Geometric growth up to the largest payload the datagram may have; exact
  // when the end is known (no more growth) or memory is short.
  const std::size_t payload_max =
      std::min(limits_.datagram_bytes_max, wire::Ipv4View::kMaxTotalLen) - header_len;  // >= end: checked
  std::size_t target = end;
  if (!end_final) {
    target = std::clamp<std::size_t>(2 * d.data.size(), end, payload_max);
  }
  if (!fits(target)) {
    target = end;
  }
  if (!fits(target)) {
    return false;
  }
  ByteVector grown(target);  // exactly `target` bytes allocated
  std::copy(d.data.begin(), d.data.end(), grown.begin());
  d.data.swap(grown);
  bytes_held_ = others + d.charge();
  return true;
}

void Reassembler::drop(std::map<Key, Datagram>::iterator it) {
  bytes_held_ -= it->second.charge();
  datagrams_.erase(it);
}

void Reassembler::poll(Instant now, const std::function<void(const ExpiredDatagram&)>& expired) {
  std::vector<std::tuple<Instant, std::uint64_t, Key>> due;
  for (const auto& [key, d] : datagrams_) {
    if (d.deadline <= now) {
      due.emplace_back(d.deadline, d.sequence, key);
    }
  }
  std::sort(due.begin(), due.end());
  for (const auto& [deadline, sequence, key] : due) {
    auto it = datagrams_.find(key);
    if (it == datagrams_.end() || it->second.deadline > now) {
      continue;  // the callback changed the table
    }
    const Datagram& d = it->second;
    ExpiredDatagram report;
    report.had_first_fragment = d.have_first;
    if (d.have_first) {
      report.first_header = d.first_header;
      report.first_bytes.assign(d.first_bytes.begin(), d.first_bytes.begin() + d.first_len);
    }
    ++counters_.timeouts;
    drop(it);
    if (expired) {
      expired(report);
    }
  }
}

Instant Reassembler::next_deadline() const {
  Instant earliest = Instant::never();
  for (const auto& [key, d] : datagrams_) {
    earliest = std::min(earliest, d.deadline);
  }
  return earliest;
}

}  // namespace tapstack::ip
