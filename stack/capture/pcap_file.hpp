#pragma once
// Reading and writing pcap capture files of Ethernet frames, on libpcap.
//
// Used by live runs and the simulator (recording through PcapRecorder) and by
// replay (feeding a capture to the stack). Errors are values carrying a
// message for the user, never exceptions: a missing, foreign or truncated file
// is an ordinary outcome here. Timestamps are always supplied by the caller or
// taken from the file, never read from a clock, so a simulated run writes
// byte-identical files.
//
// libpcap types are only forward-declared: including this header does not
// pull in <pcap/pcap.h>.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"

struct pcap;          // pcap_t
struct pcap_dumper;   // pcap_dumper_t

namespace tapstack::capture {

// One record of a capture file.
struct PcapRecord {
  Instant timestamp;              // capture time, exact to the nanosecond the file holds
  ByteVector data;                // the captured bytes (possibly fewer than original_len)
  std::size_t original_len = 0;   // the frame's length on the wire when captured

  bool operator==(const PcapRecord&) const = default;
};

// Reads an Ethernet capture (pcap, or pcapng whose first interface is
// Ethernet) record by record. Move-only; closes the file on destruction.
class PcapReader {
 public:
  // Opens `path`. Fails with a message naming the file for: a missing or
  // unreadable file, a file that is not a capture (garbage, empty), and a
  // capture whose link type is not Ethernet (DLT_EN10MB), the only one the
  // stack can consume. Timestamps are read at nanosecond precision, so
  // nanosecond files are exact and microsecond files are scaled.
  static Result<PcapReader, std::string> open(const std::string& path);

  PcapReader(PcapReader&& other) noexcept;
  PcapReader& operator=(PcapReader&& other) noexcept;
  PcapReader(const PcapReader&) = delete;
  PcapReader& operator=(const PcapReader&) = delete;
  ~PcapReader();

  // The next record, or nullopt at the clean end of the file. A truncated
  // record (the file cut mid-header or mid-data) or a corrupt one is an error
  // with libpcap's message. After the end or an error, every later call
  // returns the same outcome again.
  Result<std::optional<PcapRecord>, std::string> next();

  // Number of records returned so far.
  std::uint64_t records_read() const { return records_read_; }
  // The file's snapshot length (the largest number of bytes per record).
  std::size_t snaplen() const;

 private:
  PcapReader(::pcap* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void close();

  ::pcap* handle_ = nullptr;
  std::string path_;                // for error messages
  std::uint64_t records_read_ = 0;
  bool at_end_ = false;
  std::optional<std::string> error_;  // sticky after the first failure
};

// Writes an Ethernet (DLT_EN10MB) pcap file with microsecond timestamps (the
// classic format every tool reads). Move-only; flushes and closes the file on
// destruction.
class PcapWriter {
 public:
  // Snapshot length of written files: libpcap's maximum, so frames are never
  // cut (a TSO frame is at most 64 KiB anyway).
  static constexpr std::size_t kDefaultSnaplen = 262144;

  // Creates (or truncates) `path` and writes the file header. Fails with a
  // message naming the file if it cannot be created.
  static Result<PcapWriter, std::string> open(const std::string& path, std::size_t snaplen = kDefaultSnaplen);

  PcapWriter(PcapWriter&& other) noexcept;
  PcapWriter& operator=(PcapWriter&& other) noexcept;
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;
  ~PcapWriter();

  // Appends a record of `frame` captured at `timestamp` (rounded down to the
  // microsecond). Frames longer than the snapshot length are cut to it, with
  // their original length recorded. Fails for a timestamp the format cannot
  // hold (before the epoch, or past 2106) and for a write error.
  Result<Unit, std::string> write(Instant timestamp, Bytes frame);

  // Pushes buffered records to the file.
  Result<Unit, std::string> flush();

  // Number of records written so far.
  std::uint64_t records_written() const { return records_written_; }

 private:
  PcapWriter(::pcap* dead, ::pcap_dumper* dumper, std::string path, std::size_t snaplen)
      : dead_(dead), dumper_(dumper), path_(std::move(path)), snaplen_(snaplen) {}
  void close();

  ::pcap* dead_ = nullptr;            // pcap_open_dead handle describing the file's link type
  ::pcap_dumper* dumper_ = nullptr;   // the open file
  std::string path_;                  // for error messages
  std::size_t snaplen_ = kDefaultSnaplen;
  std::uint64_t records_written_ = 0;
};

}  // namespace tapstack::capture
