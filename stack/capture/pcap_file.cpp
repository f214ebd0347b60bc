#include "stack/capture/pcap_file.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace tapstack::capture {
namespace {

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr std::int64_t kNsPerMicrosecond = 1'000;

// "DLT_RAW (12)"-style name of a link type, for messages.
std::string link_type_name(int dlt) {
  const char* name = pcap_datalink_val_to_name(dlt);
  std::string text = name != nullptr ? std::string("DLT_") + name : std::string("unknown link type");
  return text + " (" + std::to_string(dlt) + ")";
}

}  // namespace

// ---- PcapReader ----

Result<PcapReader, std::string> PcapReader::open(const std::string& path) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Nanosecond precision: libpcap scales microsecond files up, so timestamps
  // of nanosecond files are exact and no file loses anything.
  pcap_t* handle = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (handle == nullptr) {
    // errbuf names the cause: "No such file or directory", "unknown file
    // format", "truncated dump file; ...".
    return fail("cannot read capture '" + path + "': " + errbuf);
  }
  const int dlt = pcap_datalink(handle);
  if (dlt != DLT_EN10MB) {
    pcap_close(handle);
    return fail("cannot read capture '" + path + "': link type " + link_type_name(dlt) +
                " is not Ethernet (DLT_EN10MB); only Ethernet captures are supported");
  }
  return PcapReader{handle, path};
}

PcapReader::PcapReader(PcapReader&& other) noexcept
    : handle_(std::exchange(other.handle_, nullptr)),
      path_(std::move(other.path_)),
      records_read_(other.records_read_),
      at_end_(other.at_end_),
      error_(std::move(other.error_)) {}

PcapReader& PcapReader::operator=(PcapReader&& other) noexcept {
  if (this != &other) {
    close();
    handle_ = std::exchange(other.handle_, nullptr);
    path_ = std::move(other.path_);
    records_read_ = other.records_read_;
    at_end_ = other.at_end_;
    error_ = std::move(other.error_);
  }
  return *this;
}

PcapReader::~PcapReader() { close(); }

void PcapReader::close() {
  if (handle_ != nullptr) {
    pcap_close(handle_);
    handle_ = nullptr;
  }
}

std::size_t PcapReader::snaplen() const {
  return handle_ != nullptr ? static_cast<std::size_t>(pcap_snapshot(handle_)) : 0;
}

Result<std::optional<PcapRecord>, std::string> PcapReader::next() {
  if (error_) {
    return fail(*error_);
  }
  if (at_end_) {
    return std::optional<PcapRecord>{};
  }
  if (handle_ == nullptr) {
    // A moved-from reader.
    error_ = "capture reader has no open file";
    return fail(*error_);
  }
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  const int rc = pcap_next_ex(handle_, &header, &data);
  if (rc == PCAP_ERROR_BREAK) {
    // For a savefile: no more records, the file ended on a record boundary.
    at_end_ = true;
    return std::optional<PcapRecord>{};
  }
  if (rc != 1) {
    // PCAP_ERROR: a record cut short ("truncated dump file; tried to read 16
    // header bytes, only got 7"), or a corrupt one (a captured length beyond
    // any snapshot length).
    error_ = "bad record " + std::to_string(records_read_ + 1) + " in capture '" + path_ + "': " +
             pcap_geterr(handle_);
    return fail(*error_);
  }
  PcapRecord record;
  // Opened with nanosecond precision: tv_usec holds nanoseconds.
  record.timestamp = Instant::from_ns(static_cast<std::int64_t>(header->ts.tv_sec) * kNsPerSecond +
                                      static_cast<std::int64_t>(header->ts.tv_usec));
  const auto* first = reinterpret_cast<const std::byte*>(data);  // libpcap's buffer is bytes
  record.data.assign(first, first + header->caplen);
  record.original_len = header->len;
  records_read_++;
  return std::optional<PcapRecord>{std::move(record)};
}

// ---- PcapWriter ----

Result<PcapWriter, std::string> PcapWriter::open(const std::string& path, std::size_t snaplen) {
  if (snaplen == 0 || snaplen > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    return fail("cannot write capture '" + path + "': invalid snapshot length " + std::to_string(snaplen));
  }
  // Microsecond precision writes the classic magic 0xa1b2c3d4 that every tool reads.
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, static_cast<int>(snaplen),
                                                      PCAP_TSTAMP_PRECISION_MICRO);
  if (dead == nullptr) {
    return fail("cannot write capture '" + path + "': out of memory");
  }
  pcap_dumper_t* dumper = pcap_dump_open(dead, path.c_str());
  if (dumper == nullptr) {
    std::string message = "cannot write capture '" + path + "': " + pcap_geterr(dead);
    pcap_close(dead);
    return fail(std::move(message));
  }
  return PcapWriter{dead, dumper, path, snaplen};
}

PcapWriter::PcapWriter(PcapWriter&& other) noexcept
    : dead_(std::exchange(other.dead_, nullptr)),
      dumper_(std::exchange(other.dumper_, nullptr)),
      path_(std::move(other.path_)),
      snaplen_(other.snaplen_),
      records_written_(other.records_written_) {}

PcapWriter& PcapWriter::operator=(PcapWriter&& other) noexcept {
  if (this != &other) {
    close();
    dead_ = std::exchange(other.dead_, nullptr);
    dumper_ = std::exchange(other.dumper_, nullptr);
    path_ = std::move(other.path_);
    snaplen_ = other.snaplen_;
    records_written_ = other.records_written_;
  }
  return *this;
}

PcapWriter::~PcapWriter() { close(); }

void PcapWriter::close() {
  if (dumper_ != nullptr) {
    pcap_dump_close(dumper_);  // flushes
    dumper_ = nullptr;
  }
  if (dead_ != nullptr) {
    pcap_close(dead_);
    dead_ = nullptr;
  }
}

Result<Unit, std::string> PcapWriter::write(Instant timestamp, Bytes frame) {
  if (dumper_ == nullptr) {
    return fail(std::string("capture writer has no open file"));
  }
  // The classic record header holds unsigned 32-bit seconds.
  const std::int64_t ns = timestamp.ns();
  const std::int64_t seconds = ns / kNsPerSecond;
  if (ns < 0 || seconds > std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
    return fail("cannot write to capture '" + path_ + "': timestamp " + std::to_string(ns) +
                " ns is outside the pcap range");
  }
  if (frame.size() > std::numeric_limits<std::uint32_t>::max()) {
    return fail("cannot write to capture '" + path_ + "': frame too long");
  }
  pcap_pkthdr header{};
  header.ts.tv_sec = static_cast<decltype(header.ts.tv_sec)>(seconds);
  header.ts.tv_usec = static_cast<decltype(header.ts.tv_usec)>((ns % kNsPerSecond) / kNsPerMicrosecond);
  header.len = static_cast<bpf_u_int32>(frame.size());
  header.caplen = static_cast<bpf_u_int32>(std::min(frame.size(), snaplen_));
  // pcap_dump's signature takes the dumper as u_char* (its pcap_handler form)
  // and the bytes as u_char*; both conversions are libpcap's own convention.
  pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, reinterpret_cast<const u_char*>(frame.data()));
  if (std::ferror(pcap_dump_file(dumper_)) != 0) {
    return fail("cannot write to capture '" + path_ + "': write error");
  }
  records_written_++;
  return Unit{};
}

Result<Unit, std::string> PcapWriter::flush() {
  if (dumper_ == nullptr) {
    return fail(std::string("capture writer has no open file"));
  }
  // A failed write leaves the stream's error flag set even when nothing is
  // left to flush: report it rather than pretend the file is complete.
  if (pcap_dump_flush(dumper_) != 0 || std::ferror(pcap_dump_file(dumper_)) != 0) {
    return fail("cannot write to capture '" + path_ + "': flush failed");
  }
  return Unit{};
}

}  // namespace tapstack::capture
