#pragma once
// A frame dissector for people and for tests: it reads a whole Ethernet frame
// through the wire parsers and describes each layer with a one-line summary
// and named fields. Field names and value formats follow tshark's
// (`ip.ttl`, `tcp.flags` = "0x0012"), so a test can compare our reading of a
// capture with tshark's field by field. It allocates strings: it is for
// `tapstack decode` and tests, never the packet path.

#include <string>
#include <vector>

#include "stack/base/bytes.hpp"

namespace tapstack::wire {

struct DissectedField {
  std::string name;   // tshark's field name, e.g. "ip.checksum"
  std::string value;  // tshark's -T fields format, e.g. "0x29ee"
};

struct DissectedLayer {
  std::string name;                   // "ethernet", "arp", "ipv4", "icmp", "udp", "tcp", "payload"
  std::string summary;                // one human line: addresses, ports, flags, lengths, ...
  std::vector<DissectedField> fields; // in header order
  std::string problem;                // empty, or why the layer is malformed or its checksum bad
  bool quoted = false;                // inside an ICMP error's quoted datagram
};

struct Dissection {
  std::vector<DissectedLayer> layers;

  // The first field named `name` in any layer (tshark's -E occurrence=f), or "".
  std::string field(std::string_view name) const;
  // Whether any layer reported a problem.
  bool has_problem() const;
};

Dissection dissect_frame(Bytes frame);

}  // namespace tapstack::wire
