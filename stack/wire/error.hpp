#pragma once
// Every way a header can be malformed, as one enum shared by all parsers, so
// the decoder and the drop counters can name the reason. Each value has a
// unit test that produces it.

#include <cstdint>
#include <string_view>

namespace tapstack::wire {

enum class Error : std::uint8_t {
  Truncated,          // fewer bytes than the fixed header (or a field) needs
  BadVersion,         // IPv4 version field is not 4
  BadHeaderLength,    // IPv4 IHL < 5, or the header runs past the buffer
  BadTotalLength,     // IPv4 total length < header, or > the bytes present
  BadChecksum,        // a checksum that does not verify
  BadDataOffset,      // TCP data offset < 5, or past the end of the segment
  BadOptionLength,    // an option length of 0 or 1, or one that overruns
  BadOption,          // a known option with a length its kind does not allow
  BadLength,          // UDP length < 8 or > the bytes present
  Unsupported,        // ARP for other than Ethernet/IPv4, hlen/plen mismatch
  BadFragment,        // fragment offset + length beyond 65535
};

constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::Truncated: return "truncated";
    case Error::BadVersion: return "bad version";
    case Error::BadHeaderLength: return "bad header length";
    case Error::BadTotalLength: return "bad total length";
    case Error::BadChecksum: return "bad checksum";
    case Error::BadDataOffset: return "bad data offset";
    case Error::BadOptionLength: return "bad option length";
    case Error::BadOption: return "bad option";
    case Error::BadLength: return "bad length";
    case Error::Unsupported: return "unsupported";
    case Error::BadFragment: return "bad fragment";
  }
  return "unknown";
}

// Whether a parser verifies checksums. A device that verified them in
// hardware (checksum offload) lets the stack skip the work.
enum class ChecksumCheck : std::uint8_t { Verify, Skip };

}  // namespace tapstack::wire
