#pragma once
// IPv4 reassembly (RFC 791 3.2 "Fragmentation and Reassembly", RFC 815, RFC
// 1122 3.3.2). Pure: time comes in as an Instant, nothing is sent from here.
//
// Algorithm. RFC 815's hole descriptor list, with the descriptors stored in
// the holes themselves (RFC 815 section 4): every finite hole starts on an
// 8-byte boundary and is at least 8 bytes long, so its first 4 bytes hold its
// end and the offset of the next hole. The open-ended hole "to infinity" that
// exists until the last fragment (MF = 0) arrives is not stored: it starts at
// `extent`, the highest end received. A datagram's memory is therefore its
// payload buffer and nothing else, whatever the fragment pattern.
//
// Datagrams are keyed by (source, destination, protocol, identification)
// (RFC 791 3.2). The header of the result is the first fragment's (the one
// with offset 0: RFC 815 section 6, its options are the complete set).
//
// Duplicates and overlaps (the rule; it makes the result independent of
// arrival order):
//   - Bytes that arrive again must equal the bytes already received. A
//     fragment that brings nothing new is a duplicate (counted, ignored); one
//     that partly overlaps received bytes and brings new ones is accepted
//     (counted in `overlaps`).
//   - A conflict drops the whole datagram (like RFC 5722 does for IPv6):
//     overlapping bytes that differ, a second "last" fragment with another
//     end, a fragment past the known end, a last fragment ending before bytes
//     already received, or a fragment with MF set that ends exactly at the
//     known end (a non-last fragment cannot end the datagram). So a datagram
//     is either delivered with bytes that every fragment received agreed on,
//     or not at all; never a mix that depends on the order of arrival.
//     Fragments of the same key arriving after the drop start a new
//     reassembly, which again completes only from consistent fragments.
//   - A datagram is removed when it completes; a late duplicate of one of its
//     fragments starts a new reassembly that times out (as in Linux).
//
// Limits (ReassemblyLimits; each drop is counted, per add() call that hit it;
// the fragment is dropped with the datagram it belongs to, if one was held):
//   - datagram_bytes_max (RFC 1122 3.3.2 EMTU_R) and the 16-bit total length:
//     first header length (20 until the first fragment is seen) + the highest
//     end received must fit both -> dropped_datagram_too_big.
//   - datagrams_max: a fragment of a new datagram while that many are held
//     -> dropped_too_many_datagrams. Held datagrams are never evicted for a
//     newcomer (Linux likewise refuses new fragment queues above
//     ipfrag_high_thresh): they leave on completion or timeout.
//   - total_bytes_max: bytes_held() (every payload buffer's allocation plus
//     the saved first-fragment header bytes) never exceeds it. A fragment
//     whose buffer growth would exceed it -> dropped_total_memory.
//     Buffers grow geometrically (to avoid quadratic copying) up to the
//     datagram limit, or exactly when the end is known or memory is short.
//   - timeout: a datagram lives `timeout` from its first fragment (RFC 1122
//     3.3.2: fixed, not refreshed by later fragments or by the TTL as RFC
//     791 suggested). poll() drops it and reports it; add() never expires.
//
// Fragments that cannot come from RFC 791 fragmentation are bad_fragments:
// no payload, or MF set with a payload that is not a multiple of 8 bytes.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "stack/base/bytes.hpp"
#include "stack/base/time.hpp"
#include "stack/config.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack::ip {

struct ReassemblyCounters {
  std::uint64_t fragments_received = 0;          // add() calls with a fragment (MF set or offset != 0)
  std::uint64_t datagrams_reassembled = 0;
  std::uint64_t timeouts = 0;                    // datagrams dropped by poll() at their deadline
  std::uint64_t dropped_datagram_too_big = 0;    // header + payload over datagram_bytes_max or 65535
  std::uint64_t dropped_total_memory = 0;        // total_bytes_max would be exceeded
  std::uint64_t dropped_too_many_datagrams = 0;  // a new datagram while datagrams_max are held
  std::uint64_t duplicates = 0;                  // fragments with no new byte (identical content)
  std::uint64_t overlaps = 0;                    // accepted fragments that partly covered received bytes
  std::uint64_t bad_fragments = 0;               // empty, or MF with a length not a multiple of 8
  std::uint64_t dropped_conflicts = 0;           // datagrams dropped for a contradicting fragment

  // f(name, value) for every counter, in a stable order.
  template <class F>
  void visit(F&& f) const {
    f(std::string_view{"fragments_received"}, fragments_received);
    f(std::string_view{"datagrams_reassembled"}, datagrams_reassembled);
    f(std::string_view{"timeouts"}, timeouts);
    f(std::string_view{"dropped_datagram_too_big"}, dropped_datagram_too_big);
    f(std::string_view{"dropped_total_memory"}, dropped_total_memory);
    f(std::string_view{"dropped_too_many_datagrams"}, dropped_too_many_datagrams);
    f(std::string_view{"duplicates"}, duplicates);
    f(std::string_view{"overlaps"}, overlaps);
    f(std::string_view{"bad_fragments"}, bad_fragments);
    f(std::string_view{"dropped_conflicts"}, dropped_conflicts);
  }
};

struct ReassembledDatagram {
  // The first fragment's header with fragment_offset 0, more_fragments false
  // and payload_len the whole payload; header.buffer_len() <= 65535.
  wire::Ipv4Repr header;
  ByteVector payload;  // exactly header.payload_len bytes
};

struct ExpiredDatagram {
  // The first fragment's header as received (MF set); default when
  // had_first_fragment is false.
  wire::Ipv4Repr first_header;
  // The first fragment's IP header bytes as received plus up to 8 payload
  // bytes: the quote for ICMP time exceeded code 1 (RFC 792). Empty when
  // had_first_fragment is false.
  ByteVector first_bytes;
  // RFC 1122 3.3.2: time exceeded is sent only if fragment zero arrived.
  bool had_first_fragment = false;
};

class Reassembler {
 public:
  explicit Reassembler(const ReassemblyLimits& limits);

  // One fragment (MF set or offset != 0), already validated by the IPv4
  // input (its checksum is not checked again). Returns the whole datagram
  // when this fragment completed it. A datagram that is not a fragment is
  // returned as it is, without touching any state or counter.
  std::optional<ReassembledDatagram> add(const wire::Ipv4View& fragment, Instant now);

  // Drops every datagram whose deadline is <= now and calls expired(...) for
  // each, earliest deadline first (ties in arrival order). RFC 1122 3.3.2:
  // the callee sends time exceeded only when had_first_fragment.
  void poll(Instant now, const std::function<void(const ExpiredDatagram&)>& expired);

  // The earliest deadline of a held datagram; Instant::never() if none.
  Instant next_deadline() const;

  std::size_t bytes_held() const { return bytes_held_; }
  std::size_t datagrams_held() const { return datagrams_.size(); }
  const ReassemblyCounters& counters() const { return counters_; }
  const ReassemblyLimits& limits() const { return limits_; }

  // The IPv4 header plus 8 bytes: what ExpiredDatagram::first_bytes holds at most.
  static constexpr std::size_t kFirstBytesMax = wire::Ipv4View::kMaxHeaderLen + 8;

 private:
  // RFC 791 3.2: "the identification ... together with source, destination
  // and protocol" names the datagram a fragment belongs to.
  struct Key {
    wire::Ipv4Address source;
    wire::Ipv4Address destination;
    std::uint8_t protocol = 0;
    std::uint16_t identification = 0;
    auto operator<=>(const Key&) const = default;
  };

  // "No hole": offsets of holes are multiples of 8 below 65536.
  static constexpr std::uint32_t kNoHole = 0xffff;

  // One datagram being reassembled; see the file comment for the hole list.
  struct Datagram {
    std::uint64_t sequence = 0;  // creation order: ties between deadlines
    Instant deadline;
    // Payload bytes [0, data.size()); holes inside hold their descriptors.
    ByteVector data;
    std::uint32_t first_hole = kNoHole;  // offset of the first finite hole
    // Bytes [0, extent) are received except for the finite holes. With the
    // end unknown, [extent, infinity) is the open hole; with it known,
    // extent is the payload length.
    std::uint32_t extent = 0;
    bool end_known = false;
    bool have_first = false;
    wire::Ipv4Repr first_header;
    std::array<std::byte, kFirstBytesMax> first_bytes{};
    std::uint8_t first_len = 0;

    std::size_t charge() const { return data.capacity() + first_len; }
  };

  enum class Verdict : std::uint8_t { Accept, AcceptOverlapping, Duplicate, Conflict };

  static Verdict examine(const Datagram& d, Bytes payload, std::uint32_t first, bool more);
  static void fill(Datagram& d, Bytes payload, std::uint32_t first, bool more);
  // Grows d.data to hold `end` bytes within the limits; false if it cannot.
  bool reserve(Datagram& d, std::uint32_t end, bool end_final, std::size_t header_len,
               std::size_t extra_charge);
  void drop(std::map<Key, Datagram>::iterator it);

  ReassemblyLimits limits_;
  std::map<Key, Datagram> datagrams_;
  std::size_t bytes_held_ = 0;
  std::uint64_t next_sequence_ = 0;
  ReassemblyCounters counters_;
};

}  // namespace tapstack::ip
