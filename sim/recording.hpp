#pragma once
// What a simulated run leaves behind for a human: a pcap of the wire as seen
// at a chosen port (timestamps are virtual time) and a text event log of
// every frame's fate (sent, dropped and why, delayed, duplicated, corrupted,
// delivered, switched).
//
// Both are pure functions of the seed and the options: the same run gives
// byte-identical files. Nothing here reads a clock; timestamps are the
// virtual instants passed in, and lines are formatted from integers only.
//
// Log format, one event per line, fields separated by single spaces:
//
//   <seconds>.<nanoseconds, 9 digits> <event> <where> [#<frame id>] key=value...
//
//   sent       <wire> #id len=N src=MAC dst=MAC type=XXXX   a frame entered a wire direction
//   dropped    <wire> #id reason=loss|burst_loss|queue_full|too_big|partitioned
//   delayed    <wire> #id until=T [reordered]              one copy will arrive at T
//   duplicated <wire> #id until=T [reordered]              a second copy will arrive at T
//   corrupted  <wire> #id copy=0|1 bits=B,B,...             bits flipped in that copy
//   delivered  <wire> #id len=N [duplicate] [corrupted]     a copy reached the far end
//   switch     <segment> in=PORT dst=MAC flood|forward|filtered [out=PORT|N]
//   port-drop  <port> reason=rx_invalid|rx_queue_full len=N
//   note       <text>                                       free text from a scenario
//
// A wire direction is named <link or segment>:<from>><to>, e.g. wan:a>b or
// lan:alice>switch. Frame ids count frames entering wire directions, from 1.
//
// Write failures never disturb the run: they are counted, the first message kept.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sim/fault_model.hpp"
#include "stack/base/bytes.hpp"
#include "stack/base/result.hpp"
#include "stack/base/time.hpp"
#include "stack/capture/pcap_file.hpp"

namespace tapstack::sim {

struct RecordingConfig {
  std::string pcap_path;          // empty: no capture
  std::string pcap_point = "*";   // name of the port whose frames are captured; "*": every port
  std::string log_path;           // empty: no log file
  bool log_to_memory = false;     // keep the log text in memory too (Recorder::log_text)

  // Anything to record at all.
  bool enabled() const { return !pcap_path.empty() || !log_path.empty() || log_to_memory; }
  // An error naming the option: recording.pcap_point empty, or neither "*" nor a valid port name.
  Result<Unit, std::string> validate() const;
};

// The virtual instant as "<seconds>.<9-digit nanoseconds>", as in the log.
std::string format_instant(Instant t);

class Recorder {
 public:
  // Opens the capture and log files. Fails with a message naming the file.
  static Result<std::unique_ptr<Recorder>, std::string> open(const RecordingConfig& config);
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  // Flushes both files.
  ~Recorder();

  // True when the port named `port` is a capture point.
  bool captures(std::string_view port) const;
  // True when events are logged (to a file or to memory).
  bool logging() const { return logging_; }

  // ---- pcap ----
  // A frame seen at a capture point at `now` (sent or received there).
  void capture(Bytes frame, Instant now);

  // ---- event log (each does nothing unless logging()) ----
  // A frame entered a wire direction. Returns its id (also when not logging).
  std::uint64_t sent(std::string_view wire, Bytes frame, Instant now);
  void dropped(std::string_view wire, std::uint64_t id, DropReason reason, Instant now);
  // Copy `copy` (0 or 1) of frame `id` will arrive as `delivery` says.
  void scheduled(std::string_view wire, std::uint64_t id, std::size_t copy, const Delivery& delivery, Instant now);
  void delivered(std::string_view wire, std::uint64_t id, std::size_t len, bool duplicate, bool corrupted,
                 Instant now);
  // A switch decision. `out` is the output port for forward, empty otherwise;
  // `copies` the number of ports flooded.
  enum class SwitchAction : std::uint8_t { Flood, Forward, Filtered };
  void switched(std::string_view segment, std::string_view in_port, Bytes frame, SwitchAction action,
                std::string_view out, std::size_t copies, Instant now);
  // A frame a port dropped on arrival.
  void port_dropped(std::string_view port, std::string_view reason, std::size_t len, Instant now);
  // Free text (a scenario's milestones).
  void note(std::string_view text, Instant now);

  // The log so far (only with log_to_memory).
  const std::string& log_text() const { return memory_; }
  // Pushes buffered records and lines to the files.
  Result<Unit, std::string> flush();

  std::uint64_t pcap_records() const { return pcap_records_; }
  std::uint64_t log_lines() const { return log_lines_; }
  std::uint64_t write_errors() const { return write_errors_; }
  const std::optional<std::string>& first_write_error() const { return first_write_error_; }

 private:
  explicit Recorder(const RecordingConfig& config);
  void begin_line(Instant now, std::string_view event, std::string_view where);
  void end_line();
  void write_error(std::string message);

  RecordingConfig config_;
  bool logging_ = false;
  std::optional<capture::PcapWriter> pcap_;
  std::ofstream log_file_;
  std::string pending_;  // log bytes not yet written to the file
  std::size_t line_start_ = 0;  // where the line being built starts in pending_
  std::string memory_;   // the whole log, with log_to_memory
  std::uint64_t next_frame_id_ = 1;
  std::uint64_t pcap_records_ = 0;
  std::uint64_t log_lines_ = 0;
  std::uint64_t write_errors_ = 0;
  std::optional<std::string> first_write_error_;
};

}  // namespace tapstack::sim
