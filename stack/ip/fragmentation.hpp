#pragma once
// IPv4 fragmentation on output (RFC 791 3.2 "Fragmentation and Reassembly"
// and the sample procedure in its section 3.2; RFC 1122 3.3.3). Pure: the
// fragments go to a callback, in order.

#include <cstddef>
#include <functional>

#include "stack/base/bytes.hpp"
#include "stack/wire/ipv4.hpp"

namespace tapstack::ip {

// Splits one datagram (header repr + payload) into fragments of at most `mtu`
// bytes (header included) and calls emit(header_repr, payload_slice) for each,
// in order of offset. header.payload_len is ignored: payload is the datagram's
// payload.
//   - A datagram that fits is emitted once, unchanged (but for payload_len).
//   - Every fragment but the last carries the largest multiple of 8 payload
//     bytes its header leaves room for; offsets count from
//     header.fragment_offset, so an already fragmented datagram is split
//     further correctly (RFC 791 3.2: the last piece keeps the original MF,
//     all others have MF set).
//   - Options (RFC 791 3.1 "copied flag"): the first fragment carries all of
//     them; the later ones only the options whose copied flag is set (see
//     options_copied_on_fragmentation), so they may carry more data.
// Returns false, and emits nothing, when DF is set and the datagram does not
// fit, when `mtu` cannot hold the first fragment's header plus 8 bytes, or when
// the datagram cannot be represented (header + payload over 65535 bytes, or
// offsets past 65535).
bool fragment_datagram(const wire::Ipv4Repr& header, Bytes payload, std::size_t mtu,
                       const std::function<void(const wire::Ipv4Repr&, Bytes)>& emit);

// The options a non-first fragment carries (RFC 791 3.1): each option whose
// type has the copied flag (0x80) set, in order, padded with zeros (End of
// Option List) to a multiple of 4 bytes. End of Option List and No Operation
// have the flag clear and are not copied. Copying stops at End of Option List
// and at a malformed option (a length below 2 or past the list): nothing from
// there on is copied.
wire::Ipv4Options options_copied_on_fragmentation(const wire::Ipv4Options& options);

}  // namespace tapstack::ip
